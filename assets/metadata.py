"""Tables finance reads on a materialization in the Dagster UI: a few rows each, amounts in rupees.
Numbers to plot across days go beside them as plain integers (paise and counts)."""

from collections.abc import Mapping, Sequence

import dagster as dg

# The longest list a table metadata value shows: the rest is in the database and the admin API.
TABLE_ROWS = 10


def table(records: Sequence[Mapping[str, object]], columns: Sequence[tuple[str, str]]) -> dg.TableMetadataValue:
    """`records` as a table of `columns` (name, Dagster type: "string" or "int"), in that order."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({name: record[name] for name, _ in columns}) for record in records],
        schema=dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns]),
    )
