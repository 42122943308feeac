#!/usr/bin/env bash
# Build the Linux bundle from a checkout: dist/organizer/ (one folder), a tarball with a .desktop
# file and the icon, an AppImage where appimagetool is on the PATH; then run the frozen app's
# self-test headless. Usage: packaging/build_linux.sh   (or ./dev package)
set -euo pipefail
cd "$(dirname "$0")/.."
# The bundle is built from an environment of its own holding the run time alone (`pip install .`: no torch,
# torchvision, transformers or EasyOCR, which are the `train` extra), remade when pyproject.toml changes.
# ORGANIZER_PACKAGE_QUICK=1 (CI) builds the folder and self-tests it, without the tarball and AppImage.
venv=build/venv-bundle
want="$(cat pyproject.toml packaging/build_linux.sh packaging/constraints.txt | sha256sum | cut -c1-16)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  py=python3.11
  command -v "$py" >/dev/null 2>&1 || py=python3
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -c packaging/constraints.txt . "pyinstaller>=6.10"
  echo "$want" > "$venv/.stamp"
fi
if "$venv/bin/python" -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('torch', 'torchvision', 'transformers', 'easyocr')))"; then
  echo "build environment: the run time alone (no torch, torchvision, transformers or EasyOCR)"
else
  echo "the bundle's build environment holds the train extra; it must not" >&2
  exit 1
fi
rm -rf build/pyinstaller dist/organizer
start=$(date +%s)
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN --workpath build/pyinstaller --distpath dist \
  packaging/organizer.spec
echo "PyInstaller took $(( $(date +%s) - start )) s"
# Debug symbols out of the extension modules (55 MB); not the libraries auditwheel patched into *.libs/, which
# stripping breaks ("ELF load command address/offset not page-aligned"). The self-test below checks the result.
if command -v strip >/dev/null 2>&1; then
  find dist/organizer/_internal -name "*.so*" -type f -not -path "*.libs/*" -exec strip --strip-unneeded {} + \
    2>/dev/null || true
fi
echo "dist/organizer: $(du -sh dist/organizer | cut -f1); needs glibc >= $("$venv/bin/python" packaging/glibc_needed.py dist/organizer)"
if [ "${ORGANIZER_PACKAGE_QUICK:-}" = 1 ]; then
  QT_QPA_PLATFORM=offscreen dist/organizer/organizer --self-test
  exit 0
fi
version="$("$venv/bin/python" -c 'import organizer; print(organizer.__version__)')"
stage="dist/organizer-$version-linux-$(uname -m)"
rm -rf "$stage" && mkdir -p "$stage"
cp -a dist/organizer "$stage/organizer"
cp packaging/linux/organizer.desktop "$stage/"
cp resources/icon.png "$stage/organizer.png"
cat > "$stage/install.sh" <<'INSTALL'
#!/usr/bin/env bash
# Install for this user: the app under ~/.local/opt, a launcher in ~/.local/bin, a menu entry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p ~/.local/opt ~/.local/bin ~/.local/share/applications ~/.local/share/icons/hicolor/512x512/apps
rm -rf ~/.local/opt/organizer && cp -a "$here/organizer" ~/.local/opt/organizer
ln -sf ~/.local/opt/organizer/organizer ~/.local/bin/organizer
cp "$here/organizer.png" ~/.local/share/icons/hicolor/512x512/apps/organizer.png
sed "s|^Exec=organizer|Exec=$HOME/.local/opt/organizer/organizer|" "$here/organizer.desktop" \
  > ~/.local/share/applications/organizer.desktop
echo "Installed: run 'organizer' or find it in the applications menu."
INSTALL
chmod +x "$stage/install.sh"
tar -C dist -czf "$stage.tar.gz" "$(basename "$stage")"
if command -v appimagetool >/dev/null 2>&1; then
  appdir="dist/organizer.AppDir"
  rm -rf "$appdir" && mkdir -p "$appdir/usr/bin"
  cp -a dist/organizer/. "$appdir/usr/bin/"
  cp packaging/linux/organizer.desktop resources/icon.png "$appdir/" && mv "$appdir/icon.png" "$appdir/organizer.png"
  printf '#!/bin/sh\nexec "$(dirname "$0")/usr/bin/organizer" "$@"\n' > "$appdir/AppRun" && chmod +x "$appdir/AppRun"
  ARCH="$(uname -m)" appimagetool "$appdir" "dist/organizer-$version-$(uname -m).AppImage"
else
  echo "appimagetool is not on the PATH: no AppImage (the tarball is the Linux download)."
fi
echo "sizes:"
du -sh dist/organizer "$stage.tar.gz" dist/*.AppImage 2>/dev/null || true
QT_QPA_PLATFORM=offscreen dist/organizer/organizer --self-test
