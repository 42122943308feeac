#!/usr/bin/env bash
# Wrap dist/organizer.app (the PyInstaller BUNDLE) into a .dmg with a link to /Applications.
# Run on macOS after `pyinstaller packaging/organizer.spec`. Usage: packaging/macos/make_dmg.sh VERSION
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:?version}"
stage="dist/dmg"
rm -rf "$stage" && mkdir -p "$stage"
cp -R dist/organizer.app "$stage/"
ln -s /Applications "$stage/Applications"
out="dist/organizer-$version-macos-$(uname -m).dmg"
rm -f "$out"
hdiutil create -volname "organizer $version" -srcfolder "$stage" -ov -format UDZO "$out"
du -sh dist/organizer.app "$out"
