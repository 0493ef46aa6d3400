"""Search structures: PostgreSQL's extensions, GIN indexes and term list; SQLite's FTS5 tables.

Each engine gets only its own part: the extension operations are no-ops off PostgreSQL (Django
checks the vendor), and the DDL below checks ``connection.vendor`` itself.

Both engines keep a list of the words in the search documents, for correcting typos:
PostgreSQL a materialized view over ``ts_stat`` with a GIN trigram index (refreshed by the
importer), SQLite an ``fts5vocab`` table that reads the FTS index itself.
"""

import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

PG_CREATE = [
    "CREATE INDEX IF NOT EXISTS catalog_track_search_vector_gin ON catalog_track USING gin (search_vector)",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS catalog_search_term AS"
    " SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM catalog_track') WITH DATA",
    "CREATE INDEX IF NOT EXISTS catalog_search_term_trgm ON catalog_search_term USING gin (word gin_trgm_ops)",
    # Prefix sums of document counts: how many tracks a typed prefix will match.
    "CREATE INDEX IF NOT EXISTS catalog_search_term_prefix ON catalog_search_term (word text_pattern_ops)",
]
PG_DROP = [
    "DROP MATERIALIZED VIEW IF EXISTS catalog_search_term",
    "DROP INDEX IF EXISTS catalog_track_search_vector_gin",
]
# rowid = Track.id. Diacritics folded so "Bjork" finds "Björk"; 2-4 character prefix indexes make
# the as-you-type prefix queries index lookups.
SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_track_fts USING fts5("
    "title, artist, album, tags, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_track_fts_terms USING fts5vocab(catalog_track_fts, 'row')",
]
SQLITE_DROP = [
    "DROP TABLE IF EXISTS catalog_track_fts_terms",
    "DROP TABLE IF EXISTS catalog_track_fts",
]


def create_search_structures(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": PG_CREATE, "sqlite": SQLITE_CREATE}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def drop_search_structures(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": PG_DROP, "sqlite": SQLITE_DROP}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial_catalog"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.AddField(
            model_name="track",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                blank=True, editable=False, null=True
            ),
        ),
        migrations.RunPython(create_search_structures, drop_search_structures, elidable=False),
    ]
