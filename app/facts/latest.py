"""The most recent value per subject and indicator (World Bank `mrv`, Data Commons
`LATEST`), and the rule that orders facts whose period is unknown. The loader marks each
latest fact (`observation.latest`), so `latest=true` reads an index.

The rule, one place for it: a dated fact is more recent than an undated one; among dated
facts the later period end wins; then a stated value over one the atlas derived, then a
value read from a published statistical table over one a document states (the table is
the primary source; an article restates it, often rounded), then the newer source (by
publication date; an undated source last), then the higher key. So
for Changzhi's high-tech enterprises, undated both, the stated 264 is the latest and the
224 derived from "an increase of 40" is not.
"""

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, false, func, select, true, update

from ..models import tables as t

observation = t.observation


def recency_order() -> list[ColumnElement[Any]]:
    """Most recent first, by the rule above (portable: no NULLS FIRST/LAST needed)."""
    source = t.source
    return [
        observation.c.period_end.is_(None).asc(),
        observation.c.period_end.desc(),
        observation.c.derived.asc(),
        observation.c.locator_row.is_(None).asc(),
        source.c.published_on.is_(None).asc(),
        source.c.published_on.desc(),
        observation.c.key.desc(),
    ]


def latest_ids() -> Select[Any]:
    """The ids of the latest fact of each (subject, indicator)."""
    rank = (
        func.row_number()
        .over(
            partition_by=(
                observation.c.subject_kind,
                observation.c.place_id,
                observation.c.cluster_id,
                observation.c.program_id,
                observation.c.indicator_id,
            ),
            order_by=recency_order(),
        )
        .label("recency")
    )  # fmt: skip
    ranked = (
        select(observation.c.id, rank).select_from(
            observation.join(t.source, t.source.c.id == observation.c.source_id)
        )
    ).subquery()
    return select(ranked.c.id).where(ranked.c.recency == 1)


def mark_latest(connection: Connection) -> None:
    """Set `observation.latest` on the latest fact of each subject and indicator (after a
    load), writing only the rows whose mark changes."""
    latest = latest_ids()
    connection.execute(
        update(observation)
        .where(observation.c.latest.is_(false()), observation.c.id.in_(latest))
        .values(latest=true())
    )
    connection.execute(
        update(observation)
        .where(observation.c.latest.is_(true()), observation.c.id.not_in(latest))
        .values(latest=false())
    )


def pick(facts: list[dict[str, Any]]) -> dict[str, Any]:
    """The fact the rule above picks among serialized metrics of one period (conflicting
    values): stated over derived, then a table's cell over a document, then the newer
    source, then the higher key."""

    def standing(fact: dict[str, Any]) -> tuple[bool, bool, str, str]:
        provenance = fact["provenance"]
        published = provenance["source"]["published_on"]
        from_table = provenance.get("cell") is not None
        # ISO dates order as text; "" (no date) sorts below every date.
        return (
            not fact["derived"],
            from_table,
            "" if published is None else str(published),
            fact["key"],
        )

    return max(facts, key=standing)
