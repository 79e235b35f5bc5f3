"""Deploy keys, deploy tokens and personal tokens of one stack, as render() takes them."""
import calendar
import datetime
from typing import Any, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy import orm

from solum_git.db import models
from solum_git.gitolite import render
from solum_git.provisioners import tlscerts


def epoch(when: Optional[datetime.datetime]) -> int:
    """A naive UTC datetime as epoch seconds; 0 (never) for None."""
    return calendar.timegm(when.timetuple()) if when is not None else 0


def of_stack(session: orm.Session, stack_id: int, users: sa.Select[Any]) -> dict[str, list[Any]]:
    """render()'s deploy_keys, deploy_tokens and tokens for the stack.

    ``users``: a select of the user ids with access on the stack (their
    personal tokens only are rendered).
    """
    repo, dkey, dtok, tok = models.Repo, models.DeployKey, models.DeployToken, models.Token
    # (uuid, repo name, permission, public key): render.DeployKey's fields in order
    keys: Sequence[tuple[str, str, str, str]] = session.execute(
        sa.select(dkey.uuid, repo.name, dkey.permission, dkey.public_key)
        .join(repo, dkey.repo_id == repo.id).where(repo.stack_id == stack_id)).all()
    dtoks = session.execute(
        sa.select(dtok.uuid, repo.name, dtok.permission, dtok.username, dtok.token_hash,
                  dtok.expires_at)
        .join(repo, dtok.repo_id == repo.id).where(repo.stack_id == stack_id)).all()
    toks = session.execute(
        sa.select(tok.uuid, tok.user_id, tok.token_hash, tok.expires_at)
        .where(tok.user_id.in_(users))).all()
    return {
        'deploy_keys': [render.DeployKey(*k) for k in keys],
        'deploy_tokens': [render.DeployToken(t.uuid, t.name, t.permission, t.username,
                                             t.token_hash, epoch(t.expires_at))
                          for t in dtoks],
        'tokens': [render.Token(t.uuid, t.user_id, t.token_hash, epoch(t.expires_at))
                   for t in toks],
    }


def tls_values(stack: Any) -> dict[str, str]:
    """Stack columns to write so that its HTTPS certificate fits its address; {} if it does."""
    values: dict[str, str] = {}
    ca_cert, ca_key = stack.http_ca_cert, stack.http_ca_key
    if not (ca_cert and ca_key):
        ca_cert, ca_key = tlscerts.make_ca(stack.uuid)
        values.update(http_ca_cert=ca_cert, http_ca_key=ca_key)
    if values or tlscerts.needs_new(stack.http_tls_cert, stack.ssh_host, ca_cert):
        cert, key = tlscerts.make_server(ca_cert, ca_key, stack.ssh_host)
        values.update(http_tls_cert=cert, http_tls_key=key)
    return values


def tls_files(stack: Any) -> Optional[tuple[str, str]]:
    """render()'s ``tls``: (certificate, key) PEM for the server, or None."""
    if stack.http_tls_cert and stack.http_tls_key:
        return stack.http_tls_cert, stack.http_tls_key
    return None
