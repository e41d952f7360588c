"""Our code against real parts: WeasyPrint, SQLite, SMTP on loopback, the emulators over HTTP."""
