"""The main window's parts, one module per job; gui/window.py composes them into MainWindow."""
