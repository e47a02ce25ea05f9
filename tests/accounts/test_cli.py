"""`flask users create`."""

from registry.accounts.models import User


def test_creates_a_staff_user(runner, db):
    result = runner.invoke(args=["users", "create", "Ops@Example.com", "--role", "staff",
                                 "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert "Created staff ops@example.com" in result.output
    assert db.session.query(User).filter_by(email="ops@example.com", role="staff").count() == 1


def test_refuses_a_bad_password_naming_it(runner, db):
    result = runner.invoke(args=["users", "create", "a@example.com", "--role", "merchant",
                                 "--password", "short"])
    assert result.exit_code != 0
    assert "password" in result.output
    assert db.session.query(User).count() == 0


def test_refuses_an_unknown_role(runner, db):
    result = runner.invoke(args=["users", "create", "a@example.com", "--role", "owner",
                                 "--password", "a long password"])
    assert result.exit_code != 0 and db.session.query(User).count() == 0


def test_creates_an_admin_who_is_staff_too(runner, db):
    result = runner.invoke(args=["users", "create", "boss@example.com", "--role", "admin",
                                 "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    user = db.session.query(User).filter_by(email="boss@example.com").one()
    assert user.is_admin and user.is_staff and not user.is_merchant
