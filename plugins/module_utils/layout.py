# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where Claude Desktop (3P) keeps its per-user configuration, per OS and per app generation (stdlib only).

Reference section 2.2: older builds read ``claude_desktop_config.json`` (key ``enterpriseConfig``),
newer builds read the ``configLibrary/`` directory. Paths are given as components relative to the
user's home or profile directory so that callers can walk them safely (POSIX) or join them with the
target shell's separator (Windows).
"""

from __future__ import annotations

CONFIG_FILE = "config_file"
CONFIG_LIBRARY = "config_library"
BOTH = "both"
LAYOUTS = (CONFIG_FILE, CONFIG_LIBRARY, BOTH)

MACOS = "macos"
LINUX = "linux"
WINDOWS = "windows"

APP_DIR = "Claude-3p"
LIBRARY_DIR = "configLibrary"

# Relative to the home / profile directory.
_CONFIG_FILE_DIRS = {
    MACOS: ("Library", "Application Support", APP_DIR),
    LINUX: (".config", APP_DIR),
    WINDOWS: ("AppData", "Roaming", APP_DIR),  # %APPDATA%\Claude-3p (the older data location)
}
_LIBRARY_DIRS = {
    MACOS: ("Library", "Application Support", APP_DIR, LIBRARY_DIR),
    LINUX: (".config", APP_DIR, LIBRARY_DIR),
    WINDOWS: ("AppData", "Local", APP_DIR, LIBRARY_DIR),  # %LOCALAPPDATA%\Claude-3p\configLibrary
}

# Windows MSIX package families (reference 5.2): the download / WinGet / enterprise MSIX and the Store.
MSIX_FAMILIES = ("Claude_pzs8sxrjxfjjc", "AnthropicPBC.Claude_fnn82j28hfe8t")


def layouts_for(layout):
    """The concrete layouts a ``layout`` option value stands for, in the order they are written."""
    return (CONFIG_FILE, CONFIG_LIBRARY) if layout == BOTH else (layout,)


def config_file_dirs(platform):
    return _CONFIG_FILE_DIRS[platform]


def library_dirs(platform):
    return _LIBRARY_DIRS[platform]


def msix_config_file_dirs(family):
    """The virtualised %APPDATA%\\Claude-3p an MSIX build reads (reference 5.3), relative to the profile."""
    return ("AppData", "Local", "Packages", family, "LocalCache", "Roaming", APP_DIR)


def msix_package_dir(family):
    return ("AppData", "Local", "Packages", family)
