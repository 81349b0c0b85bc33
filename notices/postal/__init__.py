"""Turn envelope stocks, a record's address and the profile's mailer facts into print-production geometry and barcodes."""
