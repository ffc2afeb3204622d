"""The word-based detectors (词表与分词识别器): 姓名, 地址 and the sensitive personal
categories of GB/T 35273-2020 Annex B that show in a column's values — 健康生理, 民族, 宗教
信仰, 婚史, 违法犯罪记录, 性取向 — and 政治面貌. None is checksum-backed: their evidence is a
lexicon, so a finding weighs the column's hit ratio and its name cues.

Masks (see lake/policy.py) and why:
- 姓名 → ``pseudonym``: a consumer can still count and join people within its extract, but
  two consumers cannot link theirs; ``keep_last`` would show the given name, half the name.
- 地址 → ``null``: an address identifies a household on its own, and a keyed pseudonym would
  still reveal who lives together; no use of shared data needs it verbatim.
- the categorical kinds (民族, 宗教, 婚姻, 政治面貌, 性取向) and 健康, 违法犯罪 → ``null``:
  few distinct values, so any hash or pseudonym gives them away by frequency (the commonest
  token is 汉族); only suppression hides them.

Categories: GB/T 35273-2020 Annex B lists 健康生理, 宗教信仰, 婚史, 性取向 and 未公开的违法犯罪
记录 as 个人敏感信息 → ``sensitive_personal``. 民族 is listed in Annex A among 个人基本资料;
it is graded ``sensitive_personal`` here because the platform's brief asks so — in Gansu's
autonomous prefectures it stands in for religion. 姓名, 地址 and 政治面貌 are ``personal``."""

from __future__ import annotations

from longshu.governance.detect.address import match_addresses
from longshu.governance.detect.base import Detector
from longshu.governance.detect.lexicon_terms import exact_matcher, term_matcher
from longshu.governance.detect.names import NAME_CUES, match_person_names

LEXICAL_DETECTORS: list[Detector] = [
    Detector(
        code="person_name",
        title_zh="姓名",
        title_en="Person name",
        category="personal",
        default_mask="pseudonym",
        checksum_backed=False,
        match=match_person_names,
        name_cues=NAME_CUES,
    ),
    Detector(
        code="address",
        title_zh="地址",
        title_en="Postal address",
        category="personal",
        default_mask="null",
        checksum_backed=False,
        match=match_addresses,
        name_cues=(
            r"地址|住址|住所|居住地|户籍地|现住|通讯地址|联系地址|家庭地址|详细地址",
            r"^(dz|zz|hjdz|jzdz|txdz|lxdz|xxdz|zsdz)$",
            r"(^|_)(dz|addr|address)($|_)",
        ),
    ),
    Detector(
        code="health",
        title_zh="健康生理信息",
        title_en="Health information",
        category="sensitive_personal",
        default_mask="null",
        checksum_backed=False,
        match=term_matcher("health_terms"),
        name_cues=(
            r"诊断|病历|病史|病种|病名|疾病|健康|医嘱|用药|药品|过敏|残疾|伤残|体检|症状|检验|血型",
            r"^(zd|zdmc|jbmc|jbbm|jkzk|cjlb)$",
            r"diagnos|disease|icd|health|illness",
        ),
    ),
    Detector(
        code="ethnicity",
        title_zh="民族",
        title_en="Ethnic group",
        category="sensitive_personal",
        default_mask="null",
        checksum_backed=False,
        match=exact_matcher("ethnic_groups"),
        name_cues=(r"民族|族别", r"^(mz|mzdm|mzmc|minzu)$", r"ethnic"),
    ),
    Detector(
        code="religion",
        title_zh="宗教信仰",
        title_en="Religious belief",
        category="sensitive_personal",
        default_mask="null",
        checksum_backed=False,
        match=exact_matcher("religions"),
        name_cues=(r"宗教|信仰|教派|门宦", r"^(zjxy|zjxydm)$", r"religio|faith"),
    ),
    Detector(
        code="marital_status",
        title_zh="婚姻状况",
        title_en="Marital status",
        category="sensitive_personal",
        default_mask="null",
        checksum_backed=False,
        match=exact_matcher("marital_status"),
        name_cues=(r"婚姻|婚否|婚史", r"^(hyzk|hyzkdm)$", r"marital|marriage"),
    ),
    Detector(
        code="criminal_record",
        title_zh="违法犯罪记录",
        title_en="Criminal record",
        category="sensitive_personal",
        default_mask="null",
        checksum_backed=False,
        match=term_matcher("criminal_terms"),
        name_cues=(
            r"犯罪|违法|前科|刑事|罪名|刑罚|判决|处罚|服刑|案由",
            r"^(zm|fzjl|wfjl)$",
            r"criminal|offen[cs]e|conviction",
        ),
    ),
    Detector(
        code="sexual_orientation",
        title_zh="性取向",
        title_en="Sexual orientation",
        category="sensitive_personal",
        default_mask="null",
        checksum_backed=False,
        match=exact_matcher("sexual_orientation"),
        name_cues=(r"性取向|性倾向", r"sexual_?orientation"),
    ),
    Detector(
        code="political_status",
        title_zh="政治面貌",
        title_en="Political status",
        category="personal",
        default_mask="null",
        checksum_backed=False,
        match=exact_matcher("political_status"),
        name_cues=(r"政治面貌|党派|党员", r"^(zzmm|zzmmdm)$", r"political"),
    ),
]
