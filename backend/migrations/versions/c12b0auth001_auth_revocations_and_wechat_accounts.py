"""auth revocations and wechat accounts

Signed-out tokens move from Redis alone into `revoked_tokens`. Each person's WeChat openids move into
`wechat_accounts`, one per app: the openids kept so far in `users.wechat_openid` came from the official
account (the H5 OAuth sign-in, and the app every push went through), and the column is dropped so that
nothing can read an openid without its app again. `users.wechat_unionid` becomes unique: it is how the
apps' openids of one person find each other.

Revision ID: c12b0auth001
Revises: c12a0pay0001
Create Date: 2026-12-04 22:02:52.296937

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c12b0auth001'
down_revision = 'c12a0pay0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('revoked_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens'))
    )
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_tokens_expires_at'), ['expires_at'], unique=False)

    op.create_table('wechat_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('app', sa.Enum('miniprogram', 'official_account', name='wechat_app', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_signed_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_accounts')),
    sa.UniqueConstraint('app', 'openid', name=op.f('uq_wechat_accounts_app_openid'))
    )
    with op.batch_alter_table('wechat_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_accounts_user_id'), ['user_id'], unique=False)

    op.execute(
        "INSERT INTO wechat_accounts (user_id, app, openid, created_at, last_signed_in_at)"
        " SELECT id, 'official_account', wechat_openid, created_at, created_at FROM users"
        " WHERE wechat_openid IS NOT NULL"
    )
    # Only one user may carry a unionid from now on: should two already share one, the older keeps it (the
    # other stays a user of its own, found by its openid as before).
    op.execute(
        "UPDATE users SET wechat_unionid = NULL WHERE wechat_unionid IS NOT NULL AND id > ("
        "SELECT MIN(older.id) FROM users AS older WHERE older.wechat_unionid = users.wechat_unionid)"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_wechat_unionid'))
        batch_op.drop_constraint(batch_op.f('uq_users_wechat_openid'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_users_wechat_unionid'), ['wechat_unionid'])
        batch_op.drop_column('wechat_openid')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wechat_openid', sa.VARCHAR(length=64), nullable=True))
    # One openid per user again: the official account's when there is one (pushes went through it).
    op.execute(
        "UPDATE users SET wechat_openid = (SELECT openid FROM wechat_accounts WHERE wechat_accounts.user_id = users.id"
        " ORDER BY CASE app WHEN 'official_account' THEN 0 ELSE 1 END, id LIMIT 1)"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_wechat_unionid'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_users_wechat_openid'), ['wechat_openid'])
        batch_op.create_index(batch_op.f('ix_users_wechat_unionid'), ['wechat_unionid'], unique=False)

    with op.batch_alter_table('wechat_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_accounts_user_id'))

    op.drop_table('wechat_accounts')
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_tokens_expires_at'))

    op.drop_table('revoked_tokens')
