"""Dagster assets and checks, one module per feature, each a thin call into `domain`."""

import warnings

# Partitioned asset checks (`partitions_def` on `@asset_check`) are a Dagster preview feature we use
# knowingly, so that a check validates exactly its partition's day (docs/architecture.md). Every
# process that loads the definitions (the CLI, the code server, tests) imports this package before
# any feature module declares a check, so the warning, meant for the author, never reaches finance.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
