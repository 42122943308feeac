"""The window's controllers: objects of their own, each owning one job's state and telling the window by signals
(searches, the undo history, the folder watch); the window wires them to its pages, which only draw."""
