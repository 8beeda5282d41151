"""User-generated content: uploads, scanning, the status machine, reports and ratings."""
