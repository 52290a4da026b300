# ruff: noqa: RUF001  (upstream headers use full-width parentheses, kept as written)
"""What each upstream table is, which of its columns become which indicator, and in what unit.

Kept apart from the conversion code so that a reviewer can check the editorial decisions
(meaning, unit, indicator) without reading the mechanics, and so that a new table is one
more entry here rather than more code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

TECHME_REPO = "huhuaping/techme"
CENSUS_REPO = "leiii/census"

# unit_stated -> (factor to the normalized unit, normalized unit). The first fifteen are the
# contract's list; `位` (a rank position) and `人/户` (persons per household) are added here.
UNITS: dict[str, tuple[Decimal, str]] = {
    "亿元": (Decimal("1e8"), "CNY"),
    "万元": (Decimal("1e4"), "CNY"),
    "元": (Decimal(1), "CNY"),
    "件": (Decimal(1), "count"),
    "项": (Decimal(1), "count"),
    "个": (Decimal(1), "count"),
    "家": (Decimal(1), "count"),
    "人": (Decimal(1), "count"),
    "万人": (Decimal("1e4"), "count"),
    "户": (Decimal(1), "count"),
    "篇": (Decimal(1), "count"),
    "人年": (Decimal(1), "person_years"),
    "万人年": (Decimal("1e4"), "person_years"),
    "%": (Decimal(1), "percent"),
    "比": (Decimal(1), "ratio"),
    "位": (Decimal(1), "rank"),
    "人/户": (Decimal(1), "ratio"),
}


@dataclass(frozen=True)
class Indicator:
    """An entry appended to seeds/indicators.yaml."""

    code: str
    name: str
    unit: str
    category: str
    description: str


@dataclass(frozen=True)
class Column:
    """One upstream variable: its label in the committed CSV, its unit, its indicator.

    `indicator` is None for a column kept in the table for fidelity but not turned into
    facts (the source's notes say why).
    """

    variable: str
    label: str
    unit: str
    indicator: str | None


@dataclass(frozen=True)
class Source:
    """One upstream table and everything the manifest says about it."""

    id: str
    dataset: str  # techme data set name, or the census file's path
    title: str
    table: str
    table_local: str
    publisher: str
    url: str
    licence: str
    repository: str
    path: str
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()
    key_id: str = ""  # shortened id for fact keys; the id itself when empty
    edition_lag: int = 1  # a data year is published in the edition of the following year
    edition: str = ""  # stated as is when the yearly-edition pattern does not fit
    # (variable, unit upstream wrote) pairs known to be mislabelled upstream: the column's
    # unit is used instead. Anything else that disagrees with `Column.unit` stops the build.
    unit_fixes: frozenset[tuple[str, str]] = field(default_factory=frozenset)


CSSTY = "China Statistical Yearbook on Science and Technology"
CSSTY_PUBLISHER = "National Bureau of Statistics; Ministry of Science and Technology"
TECHME_URL = "https://github.com/huhuaping/techme"
YEARBOOK_NOTE = (
    "Province-level figures as compiled by the techme R package from the yearbook's tables"
    " (long format: province, year, variable, value, unit); pivoted here to one row per"
    " province and year. Hong Kong, Macao and Taiwan are not covered by the yearbook."
)


def _rd(code: str, name: str, unit: str, description: str, category: str = "rd") -> Indicator:
    return Indicator(code, name, unit, category, description)


INDICATORS: tuple[Indicator, ...] = (
    # R&D funding
    _rd(
        "rd_expenditure",
        "R&D expenditure",
        "CNY",
        "Intramural expenditure on research and experimental development (R&D) of all"
        " performers in the place during the year.",
    ),
    _rd(
        "rd_intensity",
        "R&D intensity",
        "percent",
        "R&D expenditure as a share of the place's gross domestic product.",
    ),
    _rd(
        "rd_expenditure_basic_research",
        "R&D expenditure on basic research",
        "CNY",
        "Part of intramural R&D expenditure spent on basic research.",
    ),
    _rd(
        "rd_expenditure_applied_research",
        "R&D expenditure on applied research",
        "CNY",
        "Part of intramural R&D expenditure spent on applied research.",
    ),
    _rd(
        "rd_expenditure_experimental_development",
        "R&D expenditure on experimental development",
        "CNY",
        "Part of intramural R&D expenditure spent on experimental development.",
    ),
    _rd(
        "rd_expenditure_government_funds",
        "R&D expenditure from government funds",
        "CNY",
        "Part of intramural R&D expenditure financed by government.",
    ),
    _rd(
        "rd_expenditure_enterprise_funds",
        "R&D expenditure from enterprise funds",
        "CNY",
        "Part of intramural R&D expenditure financed by enterprises.",
    ),
    _rd(
        "rd_expenditure_foreign_funds",
        "R&D expenditure from foreign funds",
        "CNY",
        "Part of intramural R&D expenditure financed from abroad.",
    ),
    _rd(
        "rd_expenditure_other_funds",
        "R&D expenditure from other funds",
        "CNY",
        "Part of intramural R&D expenditure financed by sources other than government,"
        " enterprises or foreign funds.",
    ),
    # R&D personnel
    _rd(
        "rd_personnel_full_time_equivalent",
        "R&D personnel (full-time equivalent)",
        "person_years",
        "R&D personnel counted in full-time equivalent person-years.",
    ),
    _rd(
        "rd_researchers_full_time_equivalent",
        "R&D researchers (full-time equivalent)",
        "person_years",
        "Researchers among R&D personnel, in full-time equivalent person-years.",
    ),
    _rd(
        "rd_personnel_fte_basic_research",
        "R&D personnel on basic research (FTE)",
        "person_years",
        "Full-time equivalent of R&D personnel working on basic research.",
    ),
    _rd(
        "rd_personnel_fte_applied_research",
        "R&D personnel on applied research (FTE)",
        "person_years",
        "Full-time equivalent of R&D personnel working on applied research.",
    ),
    _rd(
        "rd_personnel_fte_experimental_development",
        "R&D personnel on experimental development (FTE)",
        "person_years",
        "Full-time equivalent of R&D personnel working on experimental development.",
    ),
    # Patents
    _rd(
        "patent_applications_accepted",
        "Patent applications accepted",
        "count",
        "Domestic applications for invention, utility model and design patents accepted"
        " for examination, by the applicant's region.",
        "patents",
    ),
    _rd(
        "invention_patent_applications_accepted",
        "Invention patent applications accepted",
        "count",
        "Domestic applications for invention patents accepted for examination.",
        "patents",
    ),
    _rd(
        "utility_model_patent_applications_accepted",
        "Utility model patent applications accepted",
        "count",
        "Domestic applications for utility model patents accepted for examination.",
        "patents",
    ),
    _rd(
        "design_patent_applications_accepted",
        "Design patent applications accepted",
        "count",
        "Domestic applications for design patents accepted for examination.",
        "patents",
    ),
    _rd(
        "patents_granted",
        "Patents granted",
        "count",
        "Domestic invention, utility model and design patents granted in the year.",
        "patents",
    ),
    _rd(
        "invention_patents_granted",
        "Invention patents granted",
        "count",
        "Domestic invention patents granted in the year.",
        "patents",
    ),
    _rd(
        "utility_model_patents_granted",
        "Utility model patents granted",
        "count",
        "Domestic utility model patents granted in the year.",
        "patents",
    ),
    _rd(
        "design_patents_granted",
        "Design patents granted",
        "count",
        "Domestic design patents granted in the year.",
        "patents",
    ),
    _rd(
        "patents_in_force",
        "Patents in force",
        "count",
        "Domestic invention, utility model and design patents still valid at the end of the year.",
        "patents",
    ),
    _rd(
        "invention_patents_in_force",
        "Invention patents in force",
        "count",
        "Domestic invention patents still valid at the end of the year.",
        "patents",
    ),
    _rd(
        "utility_model_patents_in_force",
        "Utility model patents in force",
        "count",
        "Domestic utility model patents still valid at the end of the year.",
        "patents",
    ),
    _rd(
        "design_patents_in_force",
        "Design patents in force",
        "count",
        "Domestic design patents still valid at the end of the year.",
        "patents",
    ),
    # Papers
    _rd(
        "sci_papers",
        "Papers indexed by SCI",
        "count",
        "Scientific papers from the place indexed by the Science Citation Index.",
        "science",
    ),
    _rd(
        "ei_papers",
        "Papers indexed by EI",
        "count",
        "Scientific papers from the place indexed by the Engineering Index.",
        "science",
    ),
    _rd(
        "cpci_s_papers",
        "Papers indexed by CPCI-S",
        "count",
        "Conference papers from the place indexed by the Conference Proceedings Citation"
        " Index (Science).",
        "science",
    ),
    _rd(
        "sci_papers_rank",
        "Rank by papers indexed by SCI",
        "rank",
        "Position of the place among the provinces by SCI-indexed papers.",
        "science",
    ),
    _rd(
        "ei_papers_rank",
        "Rank by papers indexed by EI",
        "rank",
        "Position of the place among the provinces by EI-indexed papers.",
        "science",
    ),
    _rd(
        "cpci_s_papers_rank",
        "Rank by papers indexed by CPCI-S",
        "rank",
        "Position of the place among the provinces by CPCI-S-indexed papers.",
        "science",
    ),
    # High-tech industry
    _rd(
        "high_tech_industry_rd_institutions",
        "High-tech industry R&D institutions",
        "count",
        "R&D institutions run by high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_rd_personnel_fte",
        "High-tech industry R&D personnel (FTE)",
        "person_years",
        "R&D personnel of high-tech manufacturing enterprises, full-time equivalent.",
        "industry",
    ),
    _rd(
        "high_tech_industry_rd_expenditure",
        "High-tech industry R&D expenditure",
        "CNY",
        "Intramural R&D expenditure of high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_rd_projects",
        "High-tech industry R&D projects",
        "count",
        "R&D projects of high-tech manufacturing enterprises (not published from 2020).",
        "industry",
    ),
    _rd(
        "high_tech_industry_rd_project_expenditure",
        "High-tech industry R&D project expenditure",
        "CNY",
        "Spending on the R&D projects of high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_new_product_projects",
        "High-tech industry new product development projects",
        "count",
        "New product development projects of high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_new_product_development_expenditure",
        "High-tech industry new product development expenditure",
        "CNY",
        "Spending of high-tech manufacturing enterprises on developing new products.",
        "industry",
    ),
    _rd(
        "high_tech_industry_new_product_sales_revenue",
        "High-tech industry new product sales revenue",
        "CNY",
        "Sales revenue from new products of high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_new_product_exports",
        "High-tech industry new product exports",
        "CNY",
        "Export sales of new products of high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_patent_applications",
        "High-tech industry patent applications",
        "count",
        "Patent applications filed by high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_invention_patent_applications",
        "High-tech industry invention patent applications",
        "count",
        "Invention patent applications filed by high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_invention_patents_in_force",
        "High-tech industry invention patents in force",
        "count",
        "Valid invention patents held by high-tech manufacturing enterprises.",
        "industry",
    ),
    _rd(
        "high_tech_industry_technical_renovation_expenditure",
        "High-tech industry technical renovation expenditure",
        "CNY",
        "Spending of high-tech manufacturing enterprises on technical renovation.",
        "industry",
    ),
    _rd(
        "high_tech_industry_domestic_technology_purchase_expenditure",
        "High-tech industry domestic technology purchases",
        "CNY",
        "Spending of high-tech manufacturing enterprises on buying technology in China.",
        "industry",
    ),
    _rd(
        "high_tech_industry_technology_import_expenditure",
        "High-tech industry technology imports",
        "CNY",
        "Spending of high-tech manufacturing enterprises on acquiring technology from abroad.",
        "industry",
    ),
    _rd(
        "high_tech_industry_technology_assimilation_expenditure",
        "High-tech industry spending on assimilating imported technology",
        "CNY",
        "Spending of high-tech manufacturing enterprises on digesting and absorbing imported"
        " technology.",
        "industry",
    ),
    _rd(
        "high_tech_industry_investment",
        "High-tech industry investment",
        "CNY",
        "Investment completed in high-tech industry projects.",
        "industry",
    ),
    _rd(
        "high_tech_industry_new_fixed_assets",
        "High-tech industry new fixed assets",
        "CNY",
        "Fixed assets newly added by high-tech industry investment.",
        "industry",
    ),
    _rd(
        "high_tech_industry_projects_under_construction",
        "High-tech industry projects under construction",
        "count",
        "High-tech industry investment projects under construction in the year.",
        "industry",
    ),
    _rd(
        "high_tech_industry_projects_started",
        "High-tech industry projects started",
        "count",
        "High-tech industry investment projects newly started in the year.",
        "industry",
    ),
    _rd(
        "high_tech_industry_projects_completed",
        "High-tech industry projects completed",
        "count",
        "High-tech industry investment projects fully completed and put into"
        " operation in the year.",
        "industry",
    ),
    # Enterprises
    _rd(
        "high_tech_enterprises_certified",
        "High-tech enterprises certified in the year",
        "count",
        "Enterprises on the year's published lists of enterprises recognised as national"
        " high-tech enterprises (first certifications and three-yearly re-certifications)."
        " A flow, not the stock: the yearly figures rise and fall with the certification"
        " cycle, so they are not `high_tech_enterprises`.",
        "enterprises",
    ),
    # Population
    _rd(
        "population_resident",
        "Resident population",
        "count",
        "People usually resident in the place on the census reference date.",
        "population",
    ),
    _rd(
        "population_urban",
        "Urban population",
        "count",
        "Resident population living in urban areas.",
        "population",
    ),
    _rd(
        "population_rural",
        "Rural population",
        "count",
        "Resident population living in rural areas.",
        "population",
    ),
    _rd(
        "average_household_size",
        "Average household size",
        "ratio",
        "People per family household.",
        "population",
    ),
    _rd(
        "sex_ratio",
        "Sex ratio",
        "ratio",
        "Males per 100 females in the resident population.",
        "population",
    ),
    _rd(
        "population_share_age_0_14",
        "Population aged 0-14",
        "percent",
        "Share of the resident population aged 0 to 14.",
        "population",
    ),
    _rd(
        "population_share_age_15_59",
        "Population aged 15-59",
        "percent",
        "Share of the resident population aged 15 to 59.",
        "population",
    ),
    _rd(
        "population_share_age_60_plus",
        "Population aged 60 and over",
        "percent",
        "Share of the resident population aged 60 or more (includes those aged 65 or more).",
        "population",
    ),
    _rd(
        "population_share_age_65_plus",
        "Population aged 65 and over",
        "percent",
        "Share of the resident population aged 65 or more.",
        "population",
    ),
)


def _yb(
    id: str,
    dataset: str,
    table: str,
    table_local: str,
    columns: tuple[Column, ...],
    notes: tuple[str, ...] = (),
    **extra: object,
) -> Source:
    return Source(
        id=id,
        dataset=dataset,
        title=CSSTY,
        table=table,
        table_local=table_local,
        publisher=CSSTY_PUBLISHER,
        url=TECHME_URL,
        licence="MIT",
        repository=TECHME_REPO,
        path=f"data/{dataset}.rda",
        columns=columns,
        notes=(YEARBOOK_NOTE, *notes),
        **extra,  # type: ignore[arg-type]
    )


C = Column
PATENT_KINDS = (("hj", "合计"), ("fm", "发明"), ("syxx", "实用新型"), ("wgsj", "外观设计"))

SOURCES: tuple[Source, ...] = (
    Source(
        id="nbs-rd-intensity",
        dataset="RDIntense",
        title="Statistical Communiqué on National Expenditure on Science and Technology",
        table="R&D expenditure and R&D intensity by region",
        table_local="全国科技经费投入统计公报 - 分地区研究与试验发展(R&D)经费情况",
        publisher="National Bureau of Statistics; Ministry of Science and Technology;"
        " Ministry of Finance",
        url="https://www.stats.gov.cn/",
        licence="MIT",
        repository=TECHME_REPO,
        path="data/RDIntense.rda",
        columns=(
            C("v4_ztr_jf_RD", "RD经费", "亿元", None),
            C("v4_ztr_qd_RD", "RD强度", "%", "rd_intensity"),
        ),
        notes=(
            "Upstream (techme's guide) took these from the yearly communiqués rather than"
            " the yearbook. Only R&D intensity becomes facts: the expenditure column (亿元,"
            " one decimal) states the same total as cssty-rd-expenditure-by-activity's"
            " 合计 (万元), which is the more precise figure and the one rd_expenditure"
            " takes, so that no place-year has two rd_expenditure facts."
            " Hong Kong, Macao and Taiwan are not covered.",
        ),
    ),
    _yb(
        "cssty-rd-expenditure-by-activity",
        "RDActivity",
        "Intramural R&D expenditure by type of activity and region",
        "各地区按活动类型分研究与试验发展(R&D)经费内部支出",
        (
            C("v4_zh_nbzc_hj", "合计", "万元", "rd_expenditure"),
            C("v4_zh_nbzc_jcyj", "基础研究", "万元", "rd_expenditure_basic_research"),
            C("v4_zh_nbzc_yyyj", "应用研究", "万元", "rd_expenditure_applied_research"),
            C("v4_zh_nbzc_syfz", "试验发展", "万元", "rd_expenditure_experimental_development"),
        ),
    ),
    _yb(
        "cssty-rd-expenditure-by-source",
        "RDSource",
        "Intramural R&D expenditure by source of funds and region",
        "各地区按资金来源分研究与试验发展(R&D)经费内部支出",
        (
            C("v4_zh_nbzc_hj", "合计", "万元", None),
            C("v4_zh_nbzc_zfzj", "政府资金", "万元", "rd_expenditure_government_funds"),
            C("v4_zh_nbzc_qyzj", "企业资金", "万元", "rd_expenditure_enterprise_funds"),
            C("v4_zh_nbzc_gwzj", "国外资金", "万元", "rd_expenditure_foreign_funds"),
            C("v4_zh_nbzc_qtzj", "其他资金", "万元", "rd_expenditure_other_funds"),
        ),
        (
            "The 合计 column repeats the total of cssty-rd-expenditure-by-activity (in some"
            " years with a different rounding, e.g. 2018) and is kept in the table but not"
            " turned into facts; rd_expenditure comes from that table. Empty cells are"
            " funding sources upstream has no figure for (mostly foreign funds in small"
            " provinces).",
        ),
    ),
    _yb(
        "cssty-rd-personnel-fte",
        "RDLaborHour",
        "Full-time equivalent of R&D personnel by region",
        "各地区研究与试验发展(R&D)人员全时当量",
        (
            C("v4_zh_qsdl_hj", "合计", "人年", "rd_personnel_full_time_equivalent"),
            C("v4_zh_qsdl_yjry", "研究人员", "人年", "rd_researchers_full_time_equivalent"),
            C("v4_zh_qsdl_jcyj", "基础研究", "人年", "rd_personnel_fte_basic_research"),
            C("v4_zh_qsdl_yyyj", "应用研究", "人年", "rd_personnel_fte_applied_research"),
            C("v4_zh_qsdl_syfz", "试验发展", "人年", "rd_personnel_fte_experimental_development"),
        ),
    ),
    _yb(
        "cssty-patent-applications",
        "RDPatentAccept",
        "Domestic applications for the three kinds of patents accepted, by region",
        "国内三种专利申请受理数按地区分布",
        tuple(
            C(f"v4_cg_zlsq_{v}", label, "件", ind)
            for (v, label), ind in zip(
                PATENT_KINDS,
                (
                    "patent_applications_accepted",
                    "invention_patent_applications_accepted",
                    "utility_model_patent_applications_accepted",
                    "design_patent_applications_accepted",
                ),
                strict=True,
            )
        ),
    ),
    _yb(
        "cssty-patents-granted",
        "RDPatentAuthority",
        "Domestic grants of the three kinds of patents, by region",
        "国内三种专利申请授权数按地区分布",
        tuple(
            C(f"v4_cg_zlsq2_{v}", label, "件", ind)
            for (v, label), ind in zip(
                PATENT_KINDS,
                (
                    "patents_granted",
                    "invention_patents_granted",
                    "utility_model_patents_granted",
                    "design_patents_granted",
                ),
                strict=True,
            )
        ),
    ),
    _yb(
        "cssty-patents-in-force",
        "RDPatentValid",
        "Domestic patents of the three kinds in force, by region",
        "国内三种专利有效数按地区分布",
        tuple(
            C(f"v4_cg_zlsyx_{v}", label, "件", ind)
            for (v, label), ind in zip(
                PATENT_KINDS,
                (
                    "patents_in_force",
                    "invention_patents_in_force",
                    "utility_model_patents_in_force",
                    "design_patents_in_force",
                ),
                strict=True,
            )
        ),
    ),
    _yb(
        "cssty-international-papers",
        "RDPaperInternational",
        "Chinese scientific papers indexed by major foreign indexing systems, by region",
        "国外主要检索工具收录我国科技论文按地区分布",
        (
            C("v4_cg_gwlw_pssci", "篇数SCI", "篇", "sci_papers"),
            C("v4_cg_gwlw_psei", "篇数EI", "篇", "ei_papers"),
            C("v4_cg_gwlw_pscpcis", "篇数cpcis", "篇", "cpci_s_papers"),
            C("v4_cg_gwlw_wcsci", "位次SCI", "位", "sci_papers_rank"),
            C("v4_cg_gwlw_wcei", "位次EI", "位", "ei_papers_rank"),
            C("v4_cg_gwlw_wccpcis", "位次cpcis", "位", "cpci_s_papers_rank"),
        ),
        (
            "Ranks (位次) are positions among the provinces; the national row has no rank."
            " Data years 2010-2022.",
        ),
    ),
    _yb(
        "cssty-high-tech-industry-rd",
        "IndustryRD",
        "R&D, new products, patents, technology acquisition and investment of the"
        " high-tech industry, by region",
        "高技术产业研发 (R&D活动, 新产品开发和销售, 企业专利, 技术获取及改造, 产业投资)",
        (
            C("v4_cy_RDhd_yfjgs", "研发机构数", "个", "high_tech_industry_rd_institutions"),
            C("v4_cy_RDhd_qsdl", "人员折合全时当量", "人年", "high_tech_industry_rd_personnel_fte"),
            C("v4_cy_RDhd_nbzc", "经费内部支出", "万元", "high_tech_industry_rd_expenditure"),
            C("v4_cy_RDhd_xmsl", "项目数量", "项", "high_tech_industry_rd_projects"),
            C("v4_cy_RDhd_xmjf", "项目经费", "万元", "high_tech_industry_rd_project_expenditure"),
            C("v4_cy_xcp_kfxm", "开发项目数", "项", "high_tech_industry_new_product_projects"),
            C(
                "v4_cy_xcp_kfjf",
                "开发经费支出",
                "万元",
                "high_tech_industry_new_product_development_expenditure",
            ),
            C("v4_cy_xcp_xssr", "销售收入", "万元", "high_tech_industry_new_product_sales_revenue"),
            C("v4_cy_xcp_ck", "出口", "万元", "high_tech_industry_new_product_exports"),
            C("v4_cy_qyzl_sqs", "专利申请数", "件", "high_tech_industry_patent_applications"),
            C(
                "v4_cy_qyzl_fms",
                "发明专利",
                "件",
                "high_tech_industry_invention_patent_applications",
            ),
            C(
                "v4_cy_qyzl_yxs",
                "有效专利数",
                "件",
                "high_tech_industry_invention_patents_in_force",
            ),
            C(
                "v4_cy_jsgz_gzzc",
                "技术改造经费支出",
                "万元",
                "high_tech_industry_technical_renovation_expenditure",
            ),
            C(
                "v4_cy_jsgz_gmzc",
                "购买境内技术经费支出",
                "万元",
                "high_tech_industry_domestic_technology_purchase_expenditure",
            ),
            C(
                "v4_cy_jsgz_yjzc",
                "技术引进经费支出",
                "万元",
                "high_tech_industry_technology_import_expenditure",
            ),
            C(
                "v4_cy_jsgz_xszc",
                "消化吸收经费支出",
                "万元",
                "high_tech_industry_technology_assimilation_expenditure",
            ),
            C("v4_cy_cytz_tzze", "投资额", "亿元", "high_tech_industry_investment"),
            C("v4_cy_cytz_gdzc", "新增固定资产", "亿元", "high_tech_industry_new_fixed_assets"),
            C(
                "v4_cy_cytz_sgxm",
                "施工项目个数",
                "个",
                "high_tech_industry_projects_under_construction",
            ),
            C("v4_cy_cytz_kgxm", "新开工项目个数", "个", "high_tech_industry_projects_started"),
            C(
                "v4_cy_cytz_jcxm",
                "全部建成投产项目数",
                "个",
                "high_tech_industry_projects_completed",
            ),
        ),
        (
            "Data years 2016-2023. Upstream mislabels some units, corrected here from the"
            " variable's meaning and its other years: in 2020 研发机构数, 人员折合全时当量 and"
            " 开发项目数 carry 万元 (read 个, 人年, 项); 发明专利 carries 万元 in every year"
            " but 2021 (read 件). Upstream maps the yearbook's 有效发明专利数 to 有效专利数, so"
            " that column is invention patents in force. 项目数量 and 项目经费 stop after 2019"
            " (the yearbook no longer publishes them). Empty cells are empty upstream.",
        ),
        key_id="cssty-htrd",
        unit_fixes=frozenset(
            {
                ("v4_cy_RDhd_yfjgs", "万元"),
                ("v4_cy_RDhd_qsdl", "万元"),
                ("v4_cy_xcp_kfxm", "万元"),
                ("v4_cy_qyzl_fms", "万元"),
            }
        ),
    ),
    Source(
        id="torch-hitech-firms",
        dataset="HitechFirmsPub",
        title="Lists of recognised high-tech enterprises (高新技术企业认定管理工作网)",
        table="High-tech enterprises recognised in the year, by province",
        table_local="认定高新技术企业名单 (按省汇总)",
        publisher="Torch High Technology Industry Development Center, Ministry of Science"
        " and Technology",
        url="http://www.innocom.gov.cn/",
        licence="MIT",
        repository=TECHME_REPO,
        path="data/HitechFirmsPub.rda",
        columns=(C("num", "num", "家", "high_tech_enterprises_certified"),),
        notes=(
            "Upstream counted the enterprises on the lists of recognised high-tech"
            " enterprises that the Torch Center's site publishes each year (techme's guide:"
            " 认定高新技术企业名单). The figures are therefore enterprises certified or"
            " re-certified in that year, a flow that rises and falls with the three-year"
            " certification cycle (Beijing 10968 in 2020, 8724 in 2021), not the number of"
            " accredited enterprises at year end; hence the indicator"
            " high_tech_enterprises_certified. Upstream's index column (a sort key) is left"
            " out. Data years 2018-2024; no national row; Hong Kong, Macao and Taiwan absent.",
        ),
        edition="yearly lists published on the site (data years 2018-2024)",
    ),
    Source(
        id="census-city",
        dataset="data/census/census_city_2010-2020_v1.csv",
        title="China census panel 2010-2020 (6th and 7th population censuses), v1",
        table="Prefecture-level cities: population, urban/rural population, household"
        " size, sex ratio and age structure, 2010 and 2020",
        table_local="",
        publisher="Lei Dong et al. (leiii/census), from the Sixth Census Yearbook (2010)"
        " and local statistical bulletins of the Seventh Census (2020)",
        url="https://github.com/leiii/census",
        licence="MIT",
        repository=CENSUS_REPO,
        path="data/census/census_city_2010-2020_v1.csv",
        columns=(
            C("popu", "popu", "人", "population_resident"),
            C("popu_urban", "popu_urban", "人", "population_urban"),
            C("popu_rural", "popu_rural", "人", "population_rural"),
            C("household", "household", "人/户", "average_household_size"),
            C("male_female", "male_female", "比", "sex_ratio"),
            C("age_0_14", "age_0_14", "%", "population_share_age_0_14"),
            C("age_15_59", "age_15_59", "%", "population_share_age_15_59"),
            C("age_60", "age_60", "%", "population_share_age_60_plus"),
            C("age_65", "age_65", "%", "population_share_age_65_plus"),
        ),
        notes=(
            "Wide upstream file (one row per city, columns suffixed _2010/_2020) turned into"
            " one row per city and census year; column labels are upstream's column names"
            " without the year suffix (upstream has no Chinese labels). household is the"
            " average number of persons per family household (values 2-5.6), not a count"
            " of households. male_female is males per 100 females. Age shares are percent"
            " of residents; age_60 includes age_65. The coord column (boundary polygon) is"
            " left out. code and region are upstream's city_code and city; the four"
            " municipalities appear upstream as 110100, 120100, 310100 and 500100 and are"
            " mapped to the municipality itself (110000, ...) since they are its only row."
            " Boundary adjustment (upstream's readme): 2010 figures are re-based on 2020"
            " boundaries, using the 2010 baseline printed in the 2020 bulletins, division"
            " code changes, merged units summed (shares weighted), split units summed in"
            " 2020, and units with undocumented transfers merged, so that 2010 and 2020 are"
            " comparable. The xinjiang corps cities (石河子 etc.) have no 2010 or 2020"
            " population upstream and 三沙 has none for 2010. Taiwan absent.",
        ),
        edition="v1 (2022); Sixth (2010) and Seventh (2020) national population censuses",
    ),
)

COUNTY_NOTE = (
    "Upstream's county table as published in its repository (one sheet, yearbook layout);"
    " kept here are the columns behind the census indicators, the rest (age by five-year"
    " band, education, occupation, housing ...) is left out. code and region are"
    " upstream's 区划代码 and the county's name; column labels are upstream's headers with"
    " line breaks removed. 户规模 is persons per family household; 性别比 is males per 100"
    " females; the age shares are percent of residents. 15-64岁 has no indicator here (the"
    " atlas's working-age share is 15-59, which this table does not give) and is kept for"
    " fidelity only. Only county-level rows become facts: province, prefecture and"
    " 市辖区/县 subtotal rows are left out (seeds/tables/unmapped.csv), the prefectures'"
    " figures coming from census-city. Rows are mapped by division code; a code the"
    " gazetteer does not know is mapped by name among the children of its prefecture"
    " (first the exact name, then the name without its 县/区/市/旗 suffix, which is how a"
    " county turned district or county-level city keeps its name), and left out with the"
    " reason when nothing or something already given matches."
    " Boundary adjustment: upstream (data/census/readme.md) re-based its 2010 figures on"
    " 2020 boundaries only in the combined county and city panels (2010 baseline printed"
    " in the 2020 bulletins, code changes, merged units summed with shares weighted, split"
    " units summed in 2020, units with undocumented transfers merged). This yearbook"
    " sheet is not so adjusted: its figures are for the division as it was bounded in its"
    " census year, so a county whose area changed between 2010 and 2020 is not"
    " comparable across the two years, and its 2010 figure may differ from the re-based"
    " one the city panel sums.",
)


def _county(year: str, columns: tuple[Column, ...], notes: tuple[str, ...]) -> Source:
    path = f"data/census/census_county_{year}_v1.xlsx"
    census = "Sixth (2010)" if year == "2010" else "Seventh (2020)"
    return Source(
        id=f"census-county-{year}",
        dataset=path,
        title="China census panel 2010-2020 (6th and 7th population censuses), v1",
        table="County-level divisions: population, urban/rural population, household size,"
        f" sex ratio and age structure, {year}",
        table_local="",
        publisher=f"Lei Dong et al. (leiii/census), from the {census} Census Yearbook",
        url="https://github.com/leiii/census",
        licence="MIT",
        repository=CENSUS_REPO,
        path=path,
        columns=columns,
        notes=(*COUNTY_NOTE, *notes),
        key_id="census-county",
        edition=f"v1 (2022); {census} national population census, county tables",
    )


COUNTY_SOURCES: tuple[Source, ...] = (
    _county(
        "2010",
        (
            C("合计", "合计", "人", "population_resident"),
            C("男", "男", "人", None),
            C("女", "女", "人", None),
            C("性别比（女=100）", "性别比（女=100）", "比", "sex_ratio"),
            C("城镇人口", "城镇人口", "人", "population_urban"),
            C("乡村人口", "乡村人口", "人", "population_rural"),
            C("户数", "户数", "户", None),
            C("人口数", "人口数", "人", None),
            C("户规模（人/户）", "户规模（人/户）", "人/户", "average_household_size"),
            C("0-14岁（%）", "0-14岁（%）", "%", "population_share_age_0_14"),
            C("15-64岁（%）", "15-64岁（%）", "%", None),
            C("65岁及以上（%）", "65岁及以上（%）", "%", "population_share_age_65_plus"),
        ),
        (
            "户数 and 人口数 are the family households and the people living in them."
            " Upstream's sheet is the yearbook's tree: a province row, its prefectures,"
            " each followed by its counties indented by two spaces (removed here).",
        ),
    ),
    _county(
        "2020",
        (
            C("人口数_合计", "人口数_合计", "人", "population_resident"),
            C("人口数_男", "人口数_男", "人", None),
            C("人口数_女", "人口数_女", "人", None),
            C("性别比（女=100）", "性别比（女=100）", "比", "sex_ratio"),
            C("城镇人口", "城镇人口", "人", "population_urban"),
            C("乡村人口", "乡村人口", "人", "population_rural"),
            C("家庭户数", "家庭户数", "户", None),
            C("家庭户人口数", "家庭户人口数", "人", None),
            C("户规模", "户规模", "人/户", "average_household_size"),
            C("人口比重_0-14岁", "人口比重_0-14岁", "%", "population_share_age_0_14"),
            C("人口比重_15-64岁", "人口比重_15-64岁", "%", None),
            C("人口比重_65岁及以上", "人口比重_65岁及以上", "%", "population_share_age_65_plus"),
        ),
        (
            "Upstream's sheet 七普（年鉴） is flat (区划代码, 省, 市, 区县); its NA cells are"
            " empty here and give no fact. Rows coded xxxx7x, development"
            " zones and other functional areas, are not administrative divisions and are left"
            " out.",
        ),
    ),
)

SOURCES = SOURCES + COUNTY_SOURCES
