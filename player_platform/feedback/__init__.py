"""Player feedback (bug, abuse, suggestion) with attachments, triaged by moderators."""
