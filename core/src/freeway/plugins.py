"""The plugin manager: one factory, entry-point discovery, enable/disable.

Every plugin, including Freeway's own defaults (entry point ``core``), is a
distribution with an entry point in the ``freeway`` group.  ``FREEWAY_PLUGINS`` is
an allow-list, ``FREEWAY_DISABLE_PLUGINS`` a deny-list (``[plugins] enabled/disabled``
in ``freeway.toml``).  A plugin that fails to import or declares a bad hook stops
startup with a :class:`~freeway.errors.PluginError` naming it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from freeway import hookspecs
from freeway.errors import ConfigError, PluginError
from freeway.settings import Settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
CORE_PLUGIN = "core"


@dataclass
class PluginInfo:
    """What ``freeway plugins`` shows about one installed plugin."""

    name: str
    distribution: str
    version: str
    enabled: bool
    reason: str = ""
    hooks: list[str] = field(default_factory=list)


def installed_entry_points() -> list[EntryPoint]:
    """Entry points in the ``freeway`` group, core first, then by name."""
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    return sorted(found, key=lambda ep: (ep.name != CORE_PLUGIN, ep.name))


def _selection_reason(name: str, settings: Settings) -> str | None:
    """Why this plugin is not selected by config, or ``None`` if it is."""
    if name == CORE_PLUGIN:
        return None
    if settings.plugins is not None and name not in settings.plugins:
        return "not in FREEWAY_PLUGINS"
    if name in settings.disable_plugins:
        return "disabled by FREEWAY_DISABLE_PLUGINS"
    return None


def get_plugin_manager(
    settings: Settings,
    *,
    extra_plugins: list[tuple[str, Any]] | None = None,
) -> pluggy.PluginManager:
    """Build the plugin manager: hookspecs, selected entry-point plugins, extras.

    ``extra_plugins`` are ``(name, plugin_object)`` pairs registered after discovery
    (tests and embedding use it).  Raises :class:`PluginError` naming the plugin that
    could not be loaded and ``ConfigError``-style messages for unknown plugin names.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    eps = installed_entry_points()
    _check_names(settings, {ep.name for ep in eps})
    for ep in eps:
        if _selection_reason(ep.name, settings) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        _register(pm, ep.name, plugin)
    for name, plugin in extra_plugins or []:
        _register(pm, name, plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = plugin_name_of(pm, exc.plugin)
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    return pm


def _register(pm: pluggy.PluginManager, name: str, plugin: Any) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(f"plugin {name!r} has an invalid hook: {exc}") from exc


def _check_names(settings: Settings, installed: set[str]) -> None:
    for env_name, names in (
        ("FREEWAY_PLUGINS", settings.plugins or []),
        ("FREEWAY_DISABLE_PLUGINS", settings.disable_plugins),
    ):
        for name in names:
            if name not in installed:
                known = ", ".join(sorted(installed)) or "none"
                raise ConfigError(f"{env_name}: unknown plugin {name!r} (installed: {known})")


def call_list_hook(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a hook whose implementations return lists; flatten the results."""
    results = getattr(pm.hook, hook_name)(**kwargs)
    return [item for result in results for item in (result or [])]


def plugin_name_of(pm: pluggy.PluginManager, plugin: Any) -> str:
    """The registered name of a plugin object."""
    return pm.get_name(plugin) or repr(plugin)


def describe_plugins(settings: Settings) -> list[PluginInfo]:
    """Every installed plugin with version, hooks and whether it is enabled, and why.

    A provider plugin that loads but returns no providers is reported as inactive
    with the setting it is missing (``no GEMINI_API_KEY``).
    """
    infos: list[PluginInfo] = []
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    eps = installed_entry_points()
    _check_names(settings, {ep.name for ep in eps})
    for ep in eps:
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        info = PluginInfo(name=ep.name, distribution=dist, version=version, enabled=True)
        infos.append(info)
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # report, do not crash the listing
            info.enabled, info.reason = False, f"broken: {type(exc).__name__}: {exc}"
            continue
        info.hooks = sorted(hook.name for hook in pm.get_hookcallers(plugin) or [])
        reason = _selection_reason(ep.name, settings)
        if reason:
            info.enabled, info.reason = False, reason
        elif "freeway_providers" in info.hooks:
            impl = getattr(plugin, "freeway_providers", None)
            try:
                providers = impl(settings=settings) if impl else []
            except Exception as exc:
                info.enabled, info.reason = False, f"broken: {type(exc).__name__}: {exc}"
                continue
            if providers:
                info.reason = "providers: " + ", ".join(p.name for p in providers)
            elif ep.name != CORE_PLUGIN:  # core's config-declared upstreams are optional
                info.enabled = False
                info.reason = f"no {ep.name.upper()}_API_KEY"
    return infos
