from conftest import load_plain

roles = load_plain("security_roles/roles.py")
ROLE_ORDER, VIEWER_PERSONAL_MODELS = roles.ROLE_ORDER, roles.VIEWER_PERSONAL_MODELS
highest_role, role_rank = roles.highest_role, roles.role_rank


def test_highest_role():
    assert highest_role(["viewer", "admin", "editor"]) == "admin"
    assert highest_role(["owner", "viewer"]) == "owner"
    assert highest_role([]) is False
    assert highest_role(["portal"]) is False


def test_role_rank_orders_the_chain():
    assert [role_rank(r) for r in ROLE_ORDER] == [0, 1, 2, 3]
    assert role_rank(False) == -1 < role_rank("viewer")


def test_viewer_personal_models_are_personal_only():
    # nothing shared with other users may ever be on this list
    assert not {"res.partner", "res.users", "ir.attachment", "mail.message"} & VIEWER_PERSONAL_MODELS
