"""Documents: a letter's HTML and PDF (``rendering``), the email that carries it (``mail``).

The wording itself lives in the ``templates`` package; French figures come from
``charter.french``. Beside ``integrations``, which it does not import.
"""
