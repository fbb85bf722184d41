"""The task base class (see stages/tasks/__init__.py)."""
from __future__ import annotations

from pathlib import Path

from stages.prompts import load_template, render


class Task:
    """name: shown in progress bars; template: the default template file; untrusted / trusted: the
    `{FIELD}`s it fences / inserts as they are. Subclasses give `render(...)` named arguments, `parse`
    and `rules_answer`."""

    name = "task"
    template: str = ""
    untrusted: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()

    def __init__(self, template: str | Path | list[dict] | None = None):
        self.path = template or self.template
        self._messages = self.path if isinstance(self.path, list) else None

    @property
    def messages(self) -> list[dict]:
        """The template's messages, read from `path` at the first render."""
        if self._messages is None:
            self._messages = load_template(self.path)
        return self._messages

    def __str__(self) -> str:
        return self.name

    def fill(self, untrusted: dict[str, str] | None = None, trusted: dict[str, str] | None = None) -> list[dict]:
        """The messages of one call; every value must be one of the task's declared fields."""
        bad = sorted(set(untrusted or {}) - set(self.untrusted)) + sorted(set(trusted or {}) - set(self.trusted))
        if bad:
            raise ValueError(f"task {self.name}: unknown field(s) {bad}; untrusted {list(self.untrusted)}, "
                             f"trusted {list(self.trusted)}")
        return render(self.messages, untrusted=untrusted, trusted=trusted)

    def parse(self, text: str | None):
        raise NotImplementedError

    def rules_answer(self, values: dict[str, str], user: str) -> str:
        """The rules backend's answer: `values` the fenced {FIELD: text} of the render, `user` the last user
        message (the fallback for a conversation not built by render)."""
        raise NotImplementedError(f"task {self.name} has no rules answer")
