"""The charter's rules, pure Python: dates, Decimal amounts, no I/O, nothing else of the project."""
