#pragma once
// Everything of the migration layer: the command line (cli.hpp) and the library under it.

#include "corm/migrate/autogenerate.hpp"
#include "corm/migrate/cli.hpp"
#include "corm/migrate/config.hpp"
#include "corm/migrate/migration_error.hpp"
#include "corm/migrate/migrator.hpp"
#include "corm/migrate/offline_script.hpp"
#include "corm/migrate/revision.hpp"
#include "corm/migrate/revision_chain.hpp"
#include "corm/migrate/schema_diff.hpp"
#include "corm/migrate/script_directory.hpp"
#include "corm/migrate/sql_literal.hpp"
#include "corm/migrate/sql_script.hpp"
#include "corm/migrate/version_table.hpp"
