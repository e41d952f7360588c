"""Adapters to the outside systems: CSV folder, Airtable, Notion, ledgers, out folder, SMTP."""
