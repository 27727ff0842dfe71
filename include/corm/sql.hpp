#pragma once
// Everything of the sql layer: mapping, MetaData and introspection, the expression language and
// the statements. Include this (or the single headers) to map models and build queries.

#include "corm/sql/compile_cache.hpp"
#include "corm/sql/compiled.hpp"
#include "corm/sql/expression/column_expr.hpp"
#include "corm/sql/expression/expr.hpp"
#include "corm/sql/expression/functions.hpp"
#include "corm/sql/expression/order_by.hpp"
#include "corm/sql/schema/ddl.hpp"
#include "corm/sql/schema/hydrate.hpp"
#include "corm/sql/schema/inspect.hpp"
#include "corm/sql/schema/many.hpp"
#include "corm/sql/schema/metadata.hpp"
#include "corm/sql/schema/model.hpp"
#include "corm/sql/schema/one.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "corm/sql/statement/delete.hpp"
#include "corm/sql/statement/insert.hpp"
#include "corm/sql/statement/select.hpp"
#include "corm/sql/statement/update.hpp"
#include "corm/sql/text.hpp"
