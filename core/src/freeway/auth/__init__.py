"""Authentication: principals, the auth backends hook, guards, users and JWTs.

Three credentials exist (see ``docs/auth.md``): the admin key (``X-Api-Key``), project
keys (``X-Api-Key`` or ``Authorization: Bearer fw_…``) and user JWTs
(``Authorization: Bearer <jwt>`` or the ``freeway_token`` cookie for safe methods).
Each is checked by an :class:`~freeway.auth.backends.AuthBackend` registered through
the ``freeway_auth_backends`` hook; handlers protect themselves with the guards in
:mod:`freeway.auth.guards`.
"""
