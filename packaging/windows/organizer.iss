; Inno Setup script: wraps the one-folder PyInstaller build (dist\organizer) into an installer .exe
; with a Start menu entry, an optional desktop icon and an uninstaller.
; Built by the release workflow: iscc /DAppVersion=0.1.0 packaging\windows\organizer.iss

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6F1B8C52-3C1E-4E3B-9B7A-0A7E2D6C9F10}
AppName=organizer
AppVersion={#AppVersion}
AppPublisher=organizer
DefaultDirName={autopf}\organizer
DefaultGroupName=organizer
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=organizer-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icon.ico
UninstallDisplayIcon={app}\organizer.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\organizer\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\organizer"; Filename: "{app}\organizer.exe"
Name: "{group}\Uninstall organizer"; Filename: "{uninstallexe}"
Name: "{autodesktop}\organizer"; Filename: "{app}\organizer.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\organizer.exe"; Description: "{cm:LaunchProgram,organizer}"; Flags: nowait postinstall skipifsilent
