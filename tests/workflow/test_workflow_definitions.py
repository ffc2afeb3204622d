"""A workflow declaration with a mistake fails when the module is imported."""

from __future__ import annotations

import uuid

import pytest
from tests.workflow.workflow_cases import SHARE

from longshu import workflow
from longshu.workflow import DefinitionError, State, Transition, Workflow

OPEN = State("open", "处理中", "Open")
DONE = State("done", "已办结", "Done", terminal=True)
CLOSE = Transition("close", "open", "done", {"dept_reviewer"}, "办结", "Close")


def declare(**changes):
    spec = {
        "name": f"test.{uuid.uuid4().hex[:8]}",
        "states": [OPEN, DONE],
        "transitions": [CLOSE],
        "initial": "open",
    }
    spec.update(changes)
    return Workflow(**spec)


def test_a_sound_declaration_is_registered_by_name():
    wf = declare()
    assert workflow.get(wf.name) is wf
    assert workflow.REGISTRY[SHARE.name] is SHARE


def test_unknown_workflow_name_is_a_clear_error():
    with pytest.raises(workflow.UnknownWorkflow) as caught:
        workflow.get("test.nothing_here")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"initial": "draft"}, "initial state 'draft' is not declared"),
        ({"transitions": [Transition("close", "open", "archived", {"auditor"}, "x", "x")]},
         "unknown state 'archived'"),
        ({"states": [OPEN, DONE, State("limbo", "x", "x")]}, "unreachable states"),
        ({"states": [OPEN, OPEN, DONE]}, "duplicate state codes"),
        ({"transitions": [CLOSE, CLOSE]}, "duplicate transition names"),
        ({"transitions": [CLOSE, Transition("reopen", "done", "open", {"auditor"}, "x", "x")]},
         "leaves terminal state"),
        ({"transitions": [Transition("close", "open", "done", {"chief_data_officr"}, "x", "x")]},
         "unknown roles"),
        ({"transitions": [Transition("close", "open", "done", set(), "x", "x")]}, "names no role"),
        ({"transitions": [CLOSE, Transition("finish", "open", "done", {"auditor"}, "x", "x")]},
         "two transitions lead from 'open' to 'done'"),
        ({"states": [OPEN, State("done", "x", "x")]}, "no terminal state"),
        ({"initial": "done"}, "initial state cannot be terminal"),
        ({"transitions": [Transition("close", "open", "done", {"auditor"}, "x", "x",
                                     deadline_working_days=0)]}, "whole number of working days"),
        ({"states": [OPEN, State("waiting", "x", "x"), DONE],
          "transitions": [CLOSE, Transition("wait", "open", "waiting", {"auditor"}, "x", "x")]},
         "without a way out"),
        ({"transitions": [Transition("Close Now", "open", "done", {"auditor"}, "x", "x")]},
         "transition name"),
    ],
)  # fmt: skip
def test_inconsistent_declarations_are_refused(changes, problem):
    with pytest.raises(DefinitionError, match=problem):
        declare(**changes)


def test_a_taken_name_cannot_be_declared_differently():
    wf = declare()
    with pytest.raises(DefinitionError, match="already declared differently"):
        declare(name=wf.name, states=[OPEN, State("done", "已完成", "Finished", terminal=True)])


def test_declaring_the_same_definition_again_is_harmless():
    wf = declare()
    again = declare(name=wf.name)
    assert workflow.get(wf.name) == again


def test_star_source_means_every_open_state():
    withdraw = SHARE.transition("withdraw")
    assert withdraw is not None
    assert set(withdraw.sources) == {"submitted", "provider_review"}
    assert [t.name for t in SHARE.leaving("provider_review")] == [
        "approve",
        "reject",
        "return_for_changes",
        "withdraw",
    ]


def test_the_declaration_example_in_the_docs_is_valid():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs/workflow.md").read_text("utf-8")
    example = page.split("```python\n", 1)[1].split("```", 1)[0]
    # under a test name, so the real sharing module can declare "sharing.request" itself
    example = example.replace('name="sharing.request"', 'name="test.docs_example"')
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/workflow.md", "exec"), namespace)
    declared = workflow.get("test.docs_example")
    assert declared.initial == "submitted" and declared.is_terminal("approved")
