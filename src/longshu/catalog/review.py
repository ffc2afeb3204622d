"""The catalog entry's workflow (编目流程): the department's data manager drafts, the
department's reviewer approves, the data bureau publishes; a published entry is revised
through the same steps, and retired (下线) with a reason.

    draft ──submit──► pending ──approve──► approved ──publish──► published
      ▲                  │                     │                     │
      └────return────────┘◄─────send_back──────┘      revise (edit) ─┘
    any open state ──retire (reason)──► retired

``published`` is not terminal: one instance follows the entry from its first draft through
every revision, so its history is one list. Organisation scope (a department acts on its own
entries) is checked by the catalog's permissions before a move.
"""

from __future__ import annotations

from longshu.workflow import State, Transition, Workflow

RESOURCE_WORKFLOW = Workflow(
    name="catalog.resource",
    title_zh="目录编目",
    title_en="Catalog entry",
    states=[
        State("draft", "草稿", "Draft"),
        State("pending", "待审核", "Awaiting review"),
        State("approved", "待发布", "Approved, awaiting publication"),
        State("published", "已发布", "Published"),
        State("retired", "已下线", "Retired", terminal=True),
    ],
    transitions=[
        Transition(
            "submit", "draft", "pending", {"dept_data_admin"}, "提交审核", "Submit for review",
            deadline_working_days=5, own_org=True,
        ),
        Transition(
            "return", "pending", "draft", {"dept_reviewer"}, "退回修改", "Return for changes",
            requires_comment=True, own_org=True,
        ),
        Transition(
            "approve", "pending", "approved", {"dept_reviewer"}, "审核通过", "Approve",
            deadline_working_days=5, own_org=True,
        ),
        Transition(
            "publish", "approved", "published", {"bureau_reviewer"}, "发布", "Publish",
        ),
        Transition(
            "send_back", "approved", "draft", {"bureau_reviewer"}, "退回部门", "Send back",
            requires_comment=True,
        ),
        Transition(
            "revise", "published", "draft", {"dept_data_admin"}, "变更", "Revise",
            own_org=True,
        ),
        Transition(
            "retire", "*", "retired", {"dept_reviewer", "bureau_reviewer"}, "下线", "Retire",
            requires_comment=True,
        ),
    ],
    initial="draft",
)  # fmt: skip
