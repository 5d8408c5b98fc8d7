"""access_key_id and secret_access_key are no longer ORM fields (nothing reads
them back over RPC, the Owner included), but their columns keep the stored
credentials: forget the fields' metadata first, or the end of the upgrade would
drop the columns along with the fields."""

FIELDS = ("access_key_id", "secret_access_key")


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        DELETE FROM ir_model_data
         WHERE module = 'selfhost_backup' AND model = 'ir.model.fields'
           AND name IN %s
    """, [tuple(f"field_selfhost_backup_profile__{name}" for name in FIELDS)])
    cr.execute("""
        DELETE FROM ir_model_fields
         WHERE model = 'selfhost.backup.profile' AND name IN %s
    """, [FIELDS])
