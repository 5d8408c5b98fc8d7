-- a restored copy never backs up over the original's backups, nor holds its S3 credentials
UPDATE selfhost_backup_profile
   SET daily = false,
       backup_requested = false,
       access_key_id = NULL,
       secret_access_key = NULL;
