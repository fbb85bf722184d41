"""LLM layer: one interface (base.Backend), one module per backend, a content-addressed cache.

Stages use only `get_llm(role)` (stages/llm/roles.py); the backend interface is stages/llm/base.py.
"""
from stages.llm.base import Backend, Completion, GenConfig  # noqa: F401
from stages.llm.roles import LLM, get_llm, make_llm  # noqa: F401
