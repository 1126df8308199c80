"""Classical restoration methods a user would otherwise pick, behind imagesmith's interfaces."""
