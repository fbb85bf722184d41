"""LLM layer: one interface (base.Backend), one module per backend, a content-addressed cache.

Stages open their roles with `roles.role_llm(params, role)` (`get_llm(role)` reads params.yaml itself);
the backend interface and capabilities are in stages/llm/base.py.
"""
from stages.llm.base import Backend, Completion, GenConfig  # noqa: F401
from stages.llm.roles import LLM, get_llm, make_llm  # noqa: F401
