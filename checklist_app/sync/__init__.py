"""The department hub client: rooms push their hash-chained events to PostgreSQL and read the department's views.

Qt-free and SQLite-free. `hub.Hub` is a room's client, `hub_admin.HubAdmin` the department's (schema,
room logins, shared directories); `hub_pg` is the only module that imports psycopg; the other modules
are pure (wire format, comparison, directory entries, failure classes). Import the submodules directly:
importing this package loads no database driver.
"""
