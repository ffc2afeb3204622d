"""Declared workflows: states, transitions, who may take them, and the registry by name.

A domain declares its workflow once, at import time; a mistake in the declaration (a state
that does not exist, one that cannot be reached, a duplicate name, a role nobody has) stops the
import with :class:`DefinitionError` rather than surfacing on a reviewer's desk months later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Role codes are the platform's vocabulary (pure data); checking them here catches a typo'd
# role that would otherwise leave a transition nobody can take.
from longshu.security.access.roles import ROLES

from .attachments import AttachmentPolicy

ANY_OPEN_STATE = "*"
KNOWN_ROLES = frozenset(ROLES) | {"system"}
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class DefinitionError(ValueError):
    """A workflow declaration is inconsistent (raised at import time)."""


@dataclass(frozen=True)
class State:
    """A state an instance can be in. A terminal state closes the instance."""

    code: str
    title_zh: str
    title_en: str
    terminal: bool = False


@dataclass(frozen=True)
class Transition:
    """A named move from one or more source states to ``target``, for holders of ``roles``.

    ``source`` is a state code, several codes, or ``"*"`` (every non-terminal state).
    ``deadline_working_days`` sets the instance's deadline on arrival (None: no deadline).
    ``own_org``: only actors of the instance's owning organisation may take it."""

    name: str
    source: str | tuple[str, ...]
    target: str
    roles: frozenset[str]
    title_zh: str
    title_en: str
    deadline_working_days: int | None = None
    requires_comment: bool = False
    own_org: bool = False

    def __post_init__(self) -> None:
        sources = (self.source,) if isinstance(self.source, str) else tuple(self.source)
        object.__setattr__(self, "source", sources)
        object.__setattr__(self, "roles", frozenset(self.roles))

    @property
    def sources(self) -> tuple[str, ...]:
        return self.source  # type: ignore[return-value]

    def leaves(self, state: str) -> bool:
        return state in self.sources


@dataclass(frozen=True)
class Workflow:
    """A declared workflow; constructing one validates it and registers it under ``name``."""

    name: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    initial: str
    title_zh: str = ""
    title_en: str = ""
    initial_deadline_working_days: int | None = None
    attachments: AttachmentPolicy = field(default_factory=AttachmentPolicy)

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(self.states))
        object.__setattr__(self, "transitions", _expand(self.states, self.transitions))
        _validate(self)
        register(self)

    def state(self, code: str) -> State:
        for s in self.states:
            if s.code == code:
                return s
        raise KeyError(code)

    def transition(self, name: str) -> Transition | None:
        for t in self.transitions:
            if t.name == name:
                return t
        return None

    def leaving(self, state: str) -> list[Transition]:
        """Transitions that leave ``state``, in declaration order."""
        return [t for t in self.transitions if t.leaves(state)]

    def is_terminal(self, state: str) -> bool:
        return self.state(state).terminal


def _expand(states: Iterable[State], transitions: Iterable[Transition]) -> tuple[Transition, ...]:
    """Replace ``"*"`` sources with every non-terminal state."""
    open_states = tuple(s.code for s in states if not s.terminal)
    out = []
    for t in transitions:
        if ANY_OPEN_STATE in t.sources:
            others = tuple(s for s in t.sources if s != ANY_OPEN_STATE)
            expanded = tuple(dict.fromkeys(others + open_states))
            t = Transition(
                t.name, expanded, t.target, t.roles, t.title_zh, t.title_en,
                t.deadline_working_days, t.requires_comment, t.own_org,
            )  # fmt: skip
        out.append(t)
    return tuple(out)


def _validate(wf: Workflow) -> None:
    def fail(problem: str) -> None:
        raise DefinitionError(f"workflow {wf.name!r}: {problem}")

    if not _CODE.match(wf.name.replace(".", "_")):
        fail("name must be lowercase letters, digits, '_' or '.'")
    codes = [s.code for s in wf.states]
    for code in codes:
        if not _CODE.match(code):
            fail(f"state code {code!r} must be lowercase letters, digits and '_'")
    if len(set(codes)) != len(codes):
        fail(f"duplicate state codes {sorted({c for c in codes if codes.count(c) > 1})}")
    names = [t.name for t in wf.transitions]
    if len(set(names)) != len(names):
        fail(f"duplicate transition names {sorted({n for n in names if names.count(n) > 1})}")
    if wf.initial not in codes:
        fail(f"initial state {wf.initial!r} is not declared")
    terminal = {s.code for s in wf.states if s.terminal}
    if wf.initial in terminal:
        fail("the initial state cannot be terminal")
    if not terminal:
        fail("no terminal state: instances could never close")
    _check_deadline(fail, "initial deadline", wf.initial_deadline_working_days)
    pairs: set[tuple[str, str]] = set()
    for t in wf.transitions:
        if not _CODE.match(t.name):
            fail(f"transition name {t.name!r} must be lowercase letters, digits and '_'")
        if not t.sources:
            fail(f"transition {t.name!r} has no source state")
        for state in (*t.sources, t.target):
            if state not in codes:
                fail(f"transition {t.name!r} names unknown state {state!r}")
        for source in t.sources:
            if source in terminal:
                fail(f"transition {t.name!r} leaves terminal state {source!r}")
            if (source, t.target) in pairs:
                fail(f"two transitions lead from {source!r} to {t.target!r}")
            pairs.add((source, t.target))
        if t.name in codes and t.name != t.target:
            fail(f"transition {t.name!r} shares its name with another state")
        if not t.roles:
            fail(f"transition {t.name!r} names no role")
        unknown = t.roles - KNOWN_ROLES
        if unknown:
            fail(f"transition {t.name!r} names unknown roles {sorted(unknown)}")
        _check_deadline(fail, f"transition {t.name!r} deadline", t.deadline_working_days)
    reached = {wf.initial}
    frontier = [wf.initial]
    while frontier:
        state = frontier.pop()
        for t in wf.leaving(state):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    unreachable = [c for c in codes if c not in reached]
    if unreachable:
        fail(f"unreachable states {unreachable}")
    stuck = [c for c in codes if c not in terminal and not wf.leaving(c)]
    if stuck:
        fail(f"non-terminal states without a way out {stuck}")


def _check_deadline(fail, what: str, days: int | None) -> None:  # type: ignore[no-untyped-def]
    if days is not None and (not isinstance(days, int) or days < 1 or days > 3650):
        fail(f"{what} must be a whole number of working days from 1 to 3650")


REGISTRY: dict[str, Workflow] = {}


def register(wf: Workflow) -> Workflow:
    """Add a workflow to the registry. Declaring the same definition again (a module reload)
    is harmless; a different definition under a taken name is an error."""
    existing = REGISTRY.get(wf.name)
    if existing is not None and existing != wf:
        raise DefinitionError(f"workflow {wf.name!r} is already declared differently")
    REGISTRY[wf.name] = wf
    return wf


def get(name: str) -> Workflow:
    """The registered workflow called ``name``."""
    from .errors import UnknownWorkflow

    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownWorkflow(name=name) from None
