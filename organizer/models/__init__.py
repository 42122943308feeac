"""One class per model role on a shared base that finds weights and loads them lazily.

Knows nothing of the store. Heavy libraries (torch, transformers, torchvision, easyocr) are
imported inside the functions that use them.
"""
