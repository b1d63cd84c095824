-- Install the extension in the test database; later tests build on it.
CREATE EXTENSION leadflow;
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'leadflow';
SELECT nspname FROM pg_namespace WHERE nspname = 'leadflow';
