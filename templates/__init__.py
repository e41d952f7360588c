"""The Jinja2 templates of the letters and emails: every word a member reads."""
