"""The limits of what is read as a photo (the decode settings' defaults), kept apart from the decoder so
that the settings need not import an image library."""

MAX_PIXELS = 100_000_000  # larger images are skipped as decompression bombs (settings: decode.max_pixels)
MAX_FILE_BYTES = 1_000_000_000  # larger files are skipped (settings: decode.max_file_bytes)
MAX_VIDEO_BYTES = 64_000_000_000  # larger videos are skipped (settings: decode.max_video_bytes); hashed in a stream
NATIVE_DECODE_SECONDS = 120.0  # a RAW or video decode that takes longer is given up (decode.native_decode_seconds)
READ_STALL_SECONDS = 30.0  # a read that makes no progress this long is given up (settings: decode.read_stall_seconds)
