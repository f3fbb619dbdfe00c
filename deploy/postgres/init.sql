-- OneSource: one database per service (one datum, one source — and one database per owner).
--
-- Mounted by deploy/compose.yaml as /docker-entrypoint-initdb.d/20-onesource.sql in the postgis/postgis:16-3.4
-- image. It runs once, on an empty data volume, as POSTGRES_USER (a superuser), after the image's own
-- 10_postgis.sh. To re-run it: docker compose -f deploy/compose.yaml down -v (this DELETES all data).
--
-- Every service owns its database; each service's DSN names only its own database:
--   postgresql+asyncpg://<user>:<password>@postgres:5432/onesource_<package>
-- In production give each service its own role that owns only its own database (see deploy/README.md).

CREATE DATABASE onesource_gateway;
CREATE DATABASE onesource_catalog;
CREATE DATABASE onesource_exchange;
CREATE DATABASE onesource_population;
CREATE DATABASE onesource_legal_entity;
CREATE DATABASE onesource_geo;
CREATE DATABASE onesource_macroeconomy;

-- Nobody but the owner (and superusers) may connect to a service database.
REVOKE ALL ON DATABASE onesource_gateway FROM PUBLIC;
REVOKE ALL ON DATABASE onesource_catalog FROM PUBLIC;
REVOKE ALL ON DATABASE onesource_exchange FROM PUBLIC;
REVOKE ALL ON DATABASE onesource_population FROM PUBLIC;
REVOKE ALL ON DATABASE onesource_legal_entity FROM PUBLIC;
REVOKE ALL ON DATABASE onesource_geo FROM PUBLIC;
REVOKE ALL ON DATABASE onesource_macroeconomy FROM PUBLIC;

-- geo-db uses PostGIS. CREATE EXTENSION postgis needs a superuser, so it is done here rather than in the
-- service's Alembic migrations (which should still say CREATE EXTENSION IF NOT EXISTS postgis, a no-op then).
\connect onesource_geo
CREATE EXTENSION IF NOT EXISTS postgis;
