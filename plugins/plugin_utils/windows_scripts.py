# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The two PowerShell scripts the Windows implementation runs through ``ansible.windows.win_powershell``.

The collection ships no PowerShell module: these scripts are sent as the ``script`` option of
``win_powershell``. They only collect facts and move bytes; every decision (who, which files, what
changes, what the diff shows) is made on the controller by ``windows.py`` with the shared engine.

They cannot be run or linted where this collection is developed, so they are kept small, run in strict
mode with ``$ErrorActionPreference = 'Stop'``, use only .NET and cmdlets present in Windows PowerShell 5.1
and PowerShell 7, and return data that the Python side validates field by field.

``DISCOVERY``: one call per host, read only. Returns JSON text in ``$Ansible.Result`` with names only:
never file contents, never registry value data (a managed policy may hold an API key).

``WRITE``: one call per changed file. Writes (atomically) or deletes one file below a user's profile.
The new bytes and the backup bytes arrive base64-encoded in ``sensitive_parameters`` (``no_log`` in
``win_powershell``'s argument spec), so they reach the script as SecureStrings.
"""

from __future__ import annotations

# Parameter names shared with windows.py (and checked by the unit tests' fake against the param blocks).
DISCOVERY_DIRECTORIES = "Directories"
WRITE_PATH = "Path"
WRITE_PROFILE = "ProfilePath"
WRITE_USER_SID = "UserSid"
WRITE_OPERATION = "Operation"
WRITE_EXPECTED = "ExpectedSha256"
WRITE_CONTENT = "Content"
WRITE_BACKUP = "BackupContent"

DISCOVERY_FORMAT = 1

DISCOVERY = r"""
# aiohub.claude_desktop.enterprise_config - discovery (read only, one call per host).
# SupportsShouldProcess makes win_powershell run this script in check mode too (it changes nothing).
# Written without "= $true" so that both win_powershell's AST check and its regex fallback see it.
[CmdletBinding(SupportsShouldProcess)]
param (
    # Directories to inspect below every user profile, e.g. AppData\Roaming\Claude-3p
    [Parameter(Mandatory = $true)]
    [string[]]
    $Directories
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$policyKey = 'SOFTWARE\Policies\Claude'
# Local and domain accounts only: excludes SYSTEM, LOCAL SERVICE, NETWORK SERVICE (S-1-5-18/19/20),
# service SIDs (S-1-5-80-...) and the '<sid>.bak' leftovers of corrupt profiles.
$accountSid = '^S-1-(5-21|12-1)-\d+-\d+-\d+-\d+$'
$hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
$hku = [Microsoft.Win32.RegistryKey]::OpenBaseKey('Users', 'Registry64')

Function Get-PolicyValueName {
    # Names of the values directly under a policy key that the app reads (REG_SZ, REG_EXPAND_SZ,
    # REG_DWORD; '(default)' for the default value). $null when the key does not exist. No data is read.
    param ([Microsoft.Win32.RegistryKey] $Hive, [string] $SubKey)
    $key = $Hive.OpenSubKey($SubKey)
    if ($null -eq $key) { return $null }
    try {
        $names = @(foreach ($name in $key.GetValueNames()) {
            if ("$($key.GetValueKind($name))" -in @('String', 'ExpandString', 'DWord')) {
                if ($name -eq '') { '(default)' } else { $name }
            }
        })
        , $names  # the comma keeps an empty or one-element array an array
    }
    finally { $key.Dispose() }
}

Function Get-EntryAttribute {
    # Attributes of a directory entry itself (links are not followed); $null when there is none.
    param ([string] $Path)
    try { [IO.File]::GetAttributes($Path) }
    catch [IO.FileNotFoundException], [IO.DirectoryNotFoundException] { $null }
}

Function Get-DirectoryState {
    # Walks Relative below the profile without following junctions or symbolic links, then lists *.json.
    param ([string] $ProfilePath, [string] $Relative)
    $state = [ordered]@{ relative = $Relative; exists = $false; blocked = $null; blocked_kind = $null; files = @() }
    $current = $ProfilePath
    foreach ($part in $Relative.Split('\')) {
        $current = [IO.Path]::Combine($current, $part)
        $attributes = Get-EntryAttribute -Path $current
        if ($null -eq $attributes) { return $state }
        if ($attributes -band [IO.FileAttributes]::ReparsePoint) {
            $state.blocked = $current; $state.blocked_kind = 'link'; return $state
        }
        if (-not ($attributes -band [IO.FileAttributes]::Directory)) {
            $state.blocked = $current; $state.blocked_kind = 'file'; return $state
        }
    }
    $state.exists = $true
    $state.files = @(foreach ($file in (New-Object IO.DirectoryInfo -ArgumentList $current).GetFiles('*.json')) {
        [ordered]@{
            name = $file.Name
            size = $file.Length
            readonly = $file.IsReadOnly
            link = [bool]($file.Attributes -band [IO.FileAttributes]::ReparsePoint)
        }
    })
    $state
}

Function Get-ShellFolder {
    # The raw (unexpanded) AppData and Local AppData locations of a loaded user hive, to detect redirection.
    param ([string] $Sid)
    $key = $hku.OpenSubKey("$Sid\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders")
    if ($null -eq $key) { return $null }
    try {
        [ordered]@{
            appdata = $key.GetValue('AppData', $null, 'DoNotExpandEnvironmentNames')
            local_appdata = $key.GetValue('Local AppData', $null, 'DoNotExpandEnvironmentNames')
        }
    }
    finally { $key.Dispose() }
}

# Which accounts run Claude Desktop (the app reads its configuration only at launch).
$runningSids = @{}
$runningError = $null
try {
    foreach ($process in @(Get-CimInstance -ClassName Win32_Process -Filter "Name = 'Claude.exe'")) {
        try {
            # -WhatIf:$false: in check mode win_powershell passes -WhatIf, which Invoke-CimMethod would honour
            $owner = Invoke-CimMethod -InputObject $process -MethodName GetOwnerSid -WhatIf:$false -Confirm:$false
            if ($owner.ReturnValue -eq 0) { $runningSids[[string]$owner.Sid] = $true }
        }
        catch { }  # the process ended in the meantime
    }
}
catch { $runningError = $_.Exception.Message }

$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object Security.Principal.WindowsPrincipal -ArgumentList $identity
$listKey = $hklm.OpenSubKey('SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList')
$profiles = @(foreach ($sid in $listKey.GetSubKeyNames()) {
    $entry = $listKey.OpenSubKey($sid)
    $path = [string]$entry.GetValue('ProfileImagePath')  # REG_EXPAND_SZ, expanded here
    $entry.Dispose()
    $item = [ordered]@{ sid = $sid; path = $path; details = $false }
    if ($sid -match $accountSid -and $path) {
        $item.details = $true
        $item.account = $null
        try {
            $item.account = ([Security.Principal.SecurityIdentifier]$sid).Translate(
                [Security.Principal.NTAccount]).Value
        }
        catch { }  # a deleted account, or a domain account while the domain is unreachable
        $item.exists = [IO.Directory]::Exists($path)
        $hive = $hku.OpenSubKey($sid)  # loaded while the user is logged on (or a service loaded it)
        $item.hive_loaded = $null -ne $hive
        if ($item.hive_loaded) { $hive.Dispose() }
        $item.user_policy = $null
        $item.shell_folders = $null
        if ($item.hive_loaded) {
            $item.user_policy = Get-PolicyValueName -Hive $hku -SubKey "$sid\$policyKey"
            $item.shell_folders = Get-ShellFolder -Sid $sid
        }
        $item.app_running = $runningSids.ContainsKey($sid)
        $item.error = $null
        $item.dirs = @()
        if ($item.exists) {
            try {
                $item.dirs = @(foreach ($relative in $Directories) {
                    Get-DirectoryState -ProfilePath $path -Relative $relative
                })
            }
            catch { $item.error = $_.Exception.Message }  # e.g. access denied: an error for this user only
        }
    }
    $item
})

$Ansible.Result = ConvertTo-Json -Compress -Depth 8 -InputObject ([ordered]@{
    format = 1
    current_sid = $identity.User.Value
    is_admin = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    machine_policy = Get-PolicyValueName -Hive $hklm -SubKey $policyKey
    running_error = $runningError
    profiles = $profiles
})
"""

WRITE = r"""
# aiohub.claude_desktop.enterprise_config - write or delete ONE file below a user's profile.
# Never run in check mode (no SupportsShouldProcess: win_powershell would skip it).
[CmdletBinding()]
param (
    # The file to write or delete
    [Parameter(Mandatory = $true)]
    [string]
    $Path,

    # The owner's profile directory: every directory between it and the file is checked
    [Parameter(Mandatory = $true)]
    [string]
    $ProfilePath,

    # The owner: FullControl in the owner-only ACL (with SYSTEM and Administrators)
    [Parameter(Mandatory = $true)]
    [string]
    $UserSid,

    [Parameter(Mandatory = $true)]
    [ValidateSet('write', 'delete')]
    [string]
    $Operation,

    # SHA-256 (hex) of the bytes the plan was made from; empty: the file must not exist
    [string]
    $ExpectedSha256 = '',

    # Base64 of the new bytes (sensitive_parameters: no_log, arrives as a SecureString)
    [SecureString]
    $Content,

    # Base64 of the backup bytes; no backup when absent (sensitive_parameters too)
    [SecureString]
    $BackupContent
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

Function ConvertFrom-Base64Secret {
    param ([SecureString] $Secret)
    $text = (New-Object System.Net.NetworkCredential -ArgumentList '', $Secret).Password
    , [Convert]::FromBase64String($text)  # the comma keeps the byte[] from being unrolled
}

Function New-OwnerOnlySecurity {
    # Protected ACL (no inheritance from the parent): the user, SYSTEM and Administrators, FullControl.
    param ([bool] $Directory)
    if ($Directory) {
        $security = New-Object Security.AccessControl.DirectorySecurity
        $inherit = 'ContainerInherit, ObjectInherit'
    }
    else {
        $security = New-Object Security.AccessControl.FileSecurity
        $inherit = 'None'
    }
    $security.SetAccessRuleProtection($true, $false)
    foreach ($sid in @($UserSid, 'S-1-5-18', 'S-1-5-32-544')) {
        $account = New-Object Security.Principal.SecurityIdentifier -ArgumentList $sid
        $security.AddAccessRule((New-Object Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $account, 'FullControl', $inherit, 'None', 'Allow')))
    }
    $security
}

Function Get-EntryAttribute {
    param ([string] $LiteralPath)
    try { [IO.File]::GetAttributes($LiteralPath) }
    catch [IO.FileNotFoundException], [IO.DirectoryNotFoundException] { $null }
}

Function New-OwnerOnlyFile {
    # Creates the file empty (it must not exist), makes it owner-only, then writes the bytes, so the
    # content never sits in a file that others can read.
    param ([string] $LiteralPath, [byte[]] $Bytes)
    [IO.File]::Open($LiteralPath, 'CreateNew', 'Write', 'None').Dispose()
    Set-Acl -LiteralPath $LiteralPath -AclObject (New-OwnerOnlySecurity -Directory $false)
    $stream = [IO.File]::Open($LiteralPath, 'Open', 'Write', 'None')
    try { $stream.Write($Bytes, 0, $Bytes.Length); $stream.Flush($true) }
    finally { $stream.Dispose() }
}

Function Get-Sha256 {
    param ([string] $LiteralPath)
    $sha = [Security.Cryptography.SHA256]::Create()
    try {
        $hash = $sha.ComputeHash([IO.File]::ReadAllBytes($LiteralPath))
        ([BitConverter]::ToString($hash) -replace '-', '').ToLowerInvariant()
    }
    finally { $sha.Dispose() }
}

if ($Operation -eq 'write' -and $null -eq $Content) { throw "no content given for $Path; nothing was written" }

# 1. The file must be below the profile; walk down to its directory without following links.
$root = $ProfilePath.TrimEnd('\')
if (-not $Path.StartsWith("$root\", [StringComparison]::OrdinalIgnoreCase) -or $Path -match '\\\.\.?(\\|$)') {
    throw "$Path is not below the profile $ProfilePath; refusing to write it"
}
$created = @()
$current = $root
$parts = $Path.Substring($root.Length + 1).Split('\')
for ($index = 0; $index -lt $parts.Length - 1; $index++) {
    $current = "$current\$($parts[$index])"
    $attributes = Get-EntryAttribute -LiteralPath $current
    if ($null -eq $attributes) {
        if ($Operation -eq 'delete') { throw "$current does not exist any more; nothing to delete" }
        [void][IO.Directory]::CreateDirectory($current)
        Set-Acl -LiteralPath $current -AclObject (New-OwnerOnlySecurity -Directory $true)
        $created += $current
    }
    elseif ($attributes -band [IO.FileAttributes]::ReparsePoint) {
        throw "$current is a junction or symbolic link; refusing to follow links in a user's profile"
    }
    elseif (-not ($attributes -band [IO.FileAttributes]::Directory)) {
        throw "$current is a file where a directory is expected"
    }
}

function Assert-NoLinkOnTheWay {
    # Walked again right before the file is replaced: a user who swapped a directory of the chain for a
    # junction after step 1 is caught here (the remaining window is a few instructions long).
    param([string]$Root, [string[]]$Parts)
    $here = $Root
    for ($position = 0; $position -lt $Parts.Length - 1; $position++) {
        $here = "$here\$($Parts[$position])"
        $kind = Get-EntryAttribute -LiteralPath $here
        if ($null -eq $kind -or ($kind -band [IO.FileAttributes]::ReparsePoint) -or
                -not ($kind -band [IO.FileAttributes]::Directory)) {
            throw "$here changed into a link or disappeared while the task ran; nothing was written, run the task again"
        }
    }
}

# 2. The file must still be what the plan was made from (Claude Desktop may have rewritten it).
$attributes = Get-EntryAttribute -LiteralPath $Path
$existed = $null -ne $attributes
if ($existed -and ($attributes -band [IO.FileAttributes]::ReparsePoint)) {
    throw "$Path is a symbolic link; refusing to follow links in a user's profile"
}
$found = if ($existed) { Get-Sha256 -LiteralPath $Path } else { '' }
if ($found -ne $ExpectedSha256.ToLowerInvariant()) {
    throw "$Path changed while the task ran (is Claude Desktop running?); nothing was written, run the task again"
}

$result = [ordered]@{
    path = $Path; operation = $Operation; existed = $existed; owner_only_acl = $false
    backup_file = $null; directories_created = $created
}
if ($Operation -eq 'delete') {
    Assert-NoLinkOnTheWay -Root $root -Parts $parts
    [IO.File]::Delete($Path)
}
else {
    # 3. Backup (owner-only) next to the file, then an owner-only temporary file in the same directory,
    #    then an atomic replace (keeps the ACL of an existing file) or move (a new file keeps ours).
    $directory = [IO.Path]::GetDirectoryName($Path)
    $name = [IO.Path]::GetFileName($Path)
    if ($existed -and $null -ne $BackupContent) {
        $result.backup_file = "$Path.$PID.$((Get-Date).ToString('yyyyMMdd-HHmmss')).bak"
        New-OwnerOnlyFile -LiteralPath $result.backup_file -Bytes (ConvertFrom-Base64Secret -Secret $BackupContent)
    }
    $temp = [IO.Path]::Combine($directory, ".$name.$([Guid]::NewGuid().ToString('N')).tmp")
    try {
        New-OwnerOnlyFile -LiteralPath $temp -Bytes (ConvertFrom-Base64Secret -Secret $Content)
        Assert-NoLinkOnTheWay -Root $root -Parts $parts
        if ($existed) {
            [IO.File]::Replace($temp, $Path, $null)
        }
        else {
            [IO.File]::Move($temp, $Path)
            $result.owner_only_acl = $true
        }
    }
    finally {
        if (Test-Path -LiteralPath $temp) { Remove-Item -LiteralPath $temp -Force }
    }
}
$Ansible.Changed = $true
$Ansible.Result = $result
"""
