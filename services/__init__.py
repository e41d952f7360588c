"""Services: what a run does, as plain functions the Prefect tasks wrap.

Run setup (``run_setup``), the ledger's claims (``ledger``), delivery (``delivery``), the run
summary (``summary``), the report (``report``) and the monthly report (``monthly``). Nothing
here needs Prefect, so each can be tested without a server.
"""
