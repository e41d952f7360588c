"""``cae check`` on the mail server: reachable, its configured security (SSL or STARTTLS)
works, the login is accepted. It sends no mail: it connects, logs in, and says goodbye.
"""

from __future__ import annotations

import smtplib
import ssl

from prefect_email import EmailServerCredentials
from prefect_email.credentials import SMTPType

from integrations.checks import Findings
from integrations.smtp import connect, server_address

TIMEOUT = 15.0  # seconds for each step: a check must not hang on a silent server
_SETTINGS = "CAE_SMTP_HOST, CAE_SMTP_PORT et CAE_SMTP_SECURITY, ou le bloc SMTP"


def check_smtp(credentials: EmailServerCredentials, timeout: float = TIMEOUT) -> Findings:
    """One problem at most: the first step that fails (connection, security, login)."""
    findings = Findings()
    host, port = server_address(credentials)
    security = credentials.smtp_type.name
    where = f"{host}:{port}"
    try:
        server = connect(credentials, timeout)
    except (ssl.SSLError, smtplib.SMTPNotSupportedError) as error:
        findings.problems.append(
            f"Le serveur SMTP {where} n'accepte pas la sécurité {security} configurée "
            f"({_reason(error)}) : vérifiez CAE_SMTP_PORT et CAE_SMTP_SECURITY, ou le bloc "
            "SMTP (en général 587 avec STARTTLS, 465 avec SSL)."
        )
        return findings
    except (OSError, smtplib.SMTPException) as error:
        findings.problems.append(
            f"Le serveur SMTP {where} ne répond pas ({_reason(error)}) : vérifiez {_SETTINGS}."
        )
        return findings
    try:
        if credentials.username is not None:
            server.login(credentials.username, credentials.password.get_secret_value())
    except smtplib.SMTPAuthenticationError as error:
        findings.problems.append(
            f"Le serveur SMTP {where} refuse l'identifiant « {credentials.username} » ou son "
            f"mot de passe ({error.smtp_code}) : vérifiez CAE_SMTP_USERNAME et "
            "CAE_SMTP_PASSWORD (ou le bloc SMTP)."
        )
        return findings
    except smtplib.SMTPNotSupportedError:
        findings.problems.append(
            f"Le serveur SMTP {where} ne propose pas d'identification avec la sécurité "
            f"{security} : choisissez STARTTLS ou SSL, ou retirez l'identifiant."
        )
        return findings
    except (OSError, smtplib.SMTPException) as error:
        findings.problems.append(
            f"Le serveur SMTP {where} a coupé la connexion pendant l'identification "
            f"({_reason(error)}) : réessayez, puis vérifiez {_SETTINGS}."
        )
        return findings
    finally:
        _close(server)
    login = "identifiant accepté" if credentials.username is not None else "sans identifiant"
    plain = " (sans chiffrement)" if credentials.smtp_type == SMTPType.INSECURE else ""
    findings.ready.append(f"serveur SMTP {where} joignable, {security}{plain}, {login}")
    return findings


def _reason(error: BaseException) -> str:
    return str(error) or error.__class__.__name__


def _close(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except (OSError, smtplib.SMTPException):
        server.close()
