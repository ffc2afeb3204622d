"""The catalog's fixed vocabularies: codes with Chinese and English titles.

Codes are stable (they are stored, exported and used in URLs); titles are shown to people.
The terms follow 政务信息资源目录编制指南 practice (共享类型, 开放类型, 更新周期, 信息项数据类型)
and the policy's own lists (领域, 基础库, 主题库 — 甘政办发〔2024〕75号 专栏2 and 专栏5).
"""

from __future__ import annotations

from longshu.orgs.models import LEVELS, Term

__all__ = [
    "BASE_DATABASES",
    "DOMAINS",
    "FIELD_TYPES",
    "FORMATS",
    "KINDS",
    "LEVELS",
    "OPEN_TYPES",
    "SHARE_TYPES",
    "STATUSES",
    "THEME_DATABASES",
    "UPDATE_CYCLES",
    "Term",
]


def _terms(*terms: Term) -> dict[str, Term]:
    return {t.code: t for t in terms}


# 领域: the policy's demonstration fields first (六.十三, 专栏5), then the other common ones.
DOMAINS = _terms(
    Term("culture_tourism", "文化旅游", "Culture and tourism"),
    Term("health", "医疗健康", "Health care"),
    Term("natural_resources", "自然资源", "Natural resources"),
    Term("transport_logistics", "交通物流", "Transport and logistics"),
    Term("agriculture", "现代农业", "Modern agriculture"),
    Term("meteorology", "气象服务", "Meteorological services"),
    Term("biomedicine", "生物医药", "Biomedicine"),
    Term("energy_chemical", "能源化工", "Energy and chemicals"),
    Term("market_regulation", "市场监管", "Market regulation"),
    Term("social_security", "社会保障", "Social security"),
    Term("ecology", "生态环保", "Ecology and environment"),
    Term("emergency", "应急管理", "Emergency management"),
    Term("state_assets", "国资监管", "State-owned assets"),
    Term("public_security", "公共安全", "Public security"),
    Term("civil_affairs", "民政服务", "Civil affairs"),
    Term("education", "教育科技", "Education and science"),
    Term("urban_rural", "城乡建设", "Urban and rural construction"),
    Term("economy", "经济统计", "Economy and statistics"),
    Term("government", "政务服务", "Government services"),
)

# 基础库 (专栏2): the five base databases.
BASE_DATABASES = _terms(
    Term("population", "人口", "Population"),
    Term("legal_person", "法人", "Legal persons"),
    Term("credit", "信用", "Credit"),
    Term("e_license", "电子证照", "Electronic licences"),
    Term("geospatial", "空间地理", "Spatial geography"),
)

# 主题库 (专栏2): the five theme databases.
THEME_DATABASES = _terms(
    Term("health", "医疗健康", "Health care"),
    Term("social_security", "社会保障", "Social security"),
    Term("ecology", "生态环保", "Ecology and environment"),
    Term("emergency", "应急管理", "Emergency management"),
    Term("state_assets", "国资监管", "State-owned assets"),
)

# 共享类型: conditional sharing names its conditions, no sharing its legal basis.
SHARE_TYPES = _terms(
    Term("unconditional", "无条件共享", "Shared without conditions"),
    Term("conditional", "有条件共享", "Shared on conditions"),
    Term("none", "不予共享", "Not shared"),
)

# 开放类型.
OPEN_TYPES = _terms(
    Term("unconditional", "无条件开放", "Open without conditions"),
    Term("conditional", "有条件开放", "Open on conditions"),
    Term("none", "不予开放", "Not open"),
)

# 更新周期.
UPDATE_CYCLES = _terms(
    Term("realtime", "实时", "Real time"),
    Term("daily", "每日", "Daily"),
    Term("weekly", "每周", "Weekly"),
    Term("monthly", "每月", "Monthly"),
    Term("quarterly", "每季度", "Quarterly"),
    Term("half_yearly", "每半年", "Every six months"),
    Term("yearly", "每年", "Yearly"),
    Term("irregular", "不定期", "Irregular"),
    Term("static", "不更新", "Not updated"),
)

# 资源形态 (R18: multimodal resources are first-class).
KINDS = _terms(
    Term("table", "数据表", "Table"),
    Term("documents", "文档集", "Document collection"),
    Term("image", "图像", "Images"),
    Term("audio", "音频", "Audio"),
    Term("video", "视频", "Video"),
    Term("geospatial", "地理空间", "Geospatial"),
    Term("api", "接口", "API"),
)

# 资源格式: code, title; the code is what departments write in the Excel template.
FORMATS = _terms(
    Term("CSV", "CSV", "CSV"),
    Term("XLSX", "Excel", "Excel"),
    Term("JSON", "JSON", "JSON"),
    Term("XML", "XML", "XML"),
    Term("DB", "数据库表", "Database table"),
    Term("PDF", "PDF", "PDF"),
    Term("OFD", "OFD", "OFD"),
    Term("DOCX", "Word", "Word"),
    Term("TXT", "文本", "Plain text"),
    Term("SHP", "Shapefile", "Shapefile"),
    Term("GEOJSON", "GeoJSON", "GeoJSON"),
    Term("TIFF", "TIFF", "TIFF"),
    Term("JPEG", "JPEG", "JPEG"),
    Term("PNG", "PNG", "PNG"),
    Term("MP3", "MP3", "MP3"),
    Term("WAV", "WAV", "WAV"),
    Term("MP4", "MP4", "MP4"),
    Term("API", "接口服务", "API service"),
)

# 目录状态: the resource workflow's states (workflow.py declares the moves).
STATUSES = _terms(
    Term("draft", "草稿", "Draft"),
    Term("pending", "待审核", "Awaiting review"),
    Term("approved", "待发布", "Approved, awaiting publication"),
    Term("published", "已发布", "Published"),
    Term("retired", "已下线", "Retired"),
)

# 信息项数据类型 (the guide's letters in brackets: C, I, N, Y, D, T, L, M, G, F).
FIELD_TYPES = _terms(
    Term("string", "字符型", "Text"),
    Term("integer", "整型", "Integer"),
    Term("decimal", "数值型", "Decimal"),
    Term("money", "货币型", "Money"),
    Term("date", "日期型", "Date"),
    Term("datetime", "日期时间型", "Date and time"),
    Term("boolean", "逻辑型", "Yes/no"),
    Term("text", "备注型", "Long text"),
    Term("binary", "二进制", "Binary"),
    Term("float", "浮点型", "Floating point"),
)


# Titles accepted for a code when a department writes Chinese in the Excel template.
def code_for_title(vocabulary: dict[str, Term], value: str) -> str | None:
    """The code whose code, Chinese title or English title is ``value`` (None if none)."""
    text = value.strip()
    if text in vocabulary:
        return text
    folded = text.casefold()
    for term in vocabulary.values():
        if text == term.title_zh or folded in (term.title_en.casefold(), term.code.casefold()):
            return term.code
    return None


LEVEL_TITLES = LEVELS
