#include "corm/migrate/revision_chain.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "corm/core/error.hpp"

namespace corm::migrate {

namespace {

std::string label(const Revision& r) {
  std::string s = r.id;
  if (!r.message.empty()) s += " (" + r.message + ")";
  if (!r.path.empty()) s += " in " + r.path;
  return s;
}

// "+3" / "-2" → 3 / 2; nullopt when `s` is not that form.
std::optional<std::size_t> steps(std::string_view s, char sign) {
  if (s.size() < 2 || s[0] != sign) return std::nullopt;
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

RevisionChain::RevisionChain(std::vector<Revision> revisions) {
  std::map<std::string, const Revision*> by_id;
  for (const Revision& r : revisions) {
    auto [it, fresh] = by_id.emplace(r.id, &r);
    if (!fresh)
      throw ConfigError("two revisions have the id " + r.id + ": " + label(*it->second) + " and " + label(r) +
                        "; give one of them a new id");
  }
  for (const Revision& r : revisions)
    if (r.down_revision && !by_id.count(*r.down_revision))
      throw ConfigError("revision " + label(r) + " names down_revision " + *r.down_revision +
                        ", which is not in the versions directory; restore that file or correct the header");
  // Order: each revision after its parent, siblings by id, so output is stable.
  std::multimap<std::string, const Revision*> children;
  std::vector<const Revision*> roots;
  for (const Revision& r : revisions) {
    if (r.down_revision) children.emplace(*r.down_revision, &r);
    else roots.push_back(&r);
  }
  std::sort(roots.begin(), roots.end(), [](const Revision* a, const Revision* b) { return a->id < b->id; });
  std::vector<Revision> ordered;
  std::vector<const Revision*> stack(roots.rbegin(), roots.rend());
  while (!stack.empty()) {
    const Revision* r = stack.back();
    stack.pop_back();
    ordered.push_back(*r);
    auto [b, e] = children.equal_range(r->id);
    std::vector<const Revision*> kids;
    for (auto it = b; it != e; ++it) kids.push_back(it->second);
    std::sort(kids.begin(), kids.end(), [](const Revision* x, const Revision* y) { return x->id > y->id; });
    stack.insert(stack.end(), kids.begin(), kids.end());
  }
  if (ordered.size() != revisions.size()) {
    std::set<std::string> reached;
    for (const Revision& r : ordered) reached.insert(r.id);
    std::string cycle;
    for (const Revision& r : revisions)
      if (!reached.count(r.id)) cycle += (cycle.empty() ? "" : ", ") + r.id;
    throw ConfigError("these revisions form a cycle through their down_revision lines and never reach a base: " + cycle +
                      "; one of them must have the revision before it as its parent");
  }
  revisions_ = std::move(ordered);
}

const Revision* RevisionChain::find(std::string_view id) const noexcept {
  for (const Revision& r : revisions_)
    if (r.id == id) return &r;
  return nullptr;
}

const Revision& RevisionChain::resolve(std::string_view id) const {
  if (const Revision* exact = find(id)) return *exact;
  std::vector<const Revision*> matches;
  for (const Revision& r : revisions_)
    if (!id.empty() && r.id.rfind(id, 0) == 0) matches.push_back(&r);
  if (matches.size() == 1) return *matches[0];
  if (matches.empty())
    throw ConfigError("no revision '" + std::string(id) + "' in the versions directory; `history` lists the revisions");
  std::string names;
  for (const Revision* r : matches) names += (names.empty() ? "" : ", ") + r->id;
  throw ConfigError("revision prefix '" + std::string(id) + "' is ambiguous: it matches " + names +
                    "; give more characters");
}

std::vector<const Revision*> RevisionChain::heads() const {
  std::set<std::string> parents;
  for (const Revision& r : revisions_)
    if (r.down_revision) parents.insert(*r.down_revision);
  std::vector<const Revision*> out;
  for (auto it = revisions_.rbegin(); it != revisions_.rend(); ++it)
    if (!parents.count(it->id)) out.push_back(&*it);
  return out;
}

std::string RevisionChain::describe_heads(const std::vector<const Revision*>& hs) const {
  std::string s;
  for (const Revision* h : hs) s += (s.empty() ? "" : " and ") + label(*h);
  return s;
}

const Revision* RevisionChain::head() const {
  auto hs = heads();
  if (hs.empty()) return nullptr;
  if (hs.size() > 1) {
    std::string fix;
    if (hs.size() == 2)
      fix = "; edit the down_revision line of one of them to the other's id (" + hs[0]->id + " → down_revision: " +
            hs[1]->id + ") so the chain is linear again";
    throw ConfigError("the revision chain has " + std::to_string(hs.size()) + " heads: " + describe_heads(hs) +
                      " — they branch from a common parent" + fix);
  }
  return hs[0];
}

std::vector<const Revision*> RevisionChain::lineage(std::string_view id) const {
  std::vector<const Revision*> out;
  const Revision* r = &resolve(id);
  while (r) {
    out.push_back(r);
    r = r->down_revision ? find(*r->down_revision) : nullptr;
  }
  return out;
}

bool RevisionChain::is_ancestor(std::string_view ancestor, std::string_view rev) const {
  for (const Revision* r : lineage(rev))
    if (r->id == ancestor) return true;
  return false;
}

std::vector<const Revision*> RevisionChain::upgrade_path(const std::optional<std::string>& current,
                                                         std::string_view target) const {
  if (current && !find(*current))
    throw ConfigError("the database is at revision " + *current +
                      ", which is not in the versions directory; restore its file, or `stamp` the revision the "
                      "schema really matches");
  const Revision* goal = nullptr;
  if (target == "head" || target == "heads") {
    goal = head();
    if (!goal) return {};
  } else if (auto n = steps(target, '+')) {
    const Revision* h = head();
    if (!h) throw ConfigError("there are no revisions to upgrade to; create one with `revision -m MESSAGE`");
    auto line = lineage(h->id);  // newest first
    std::reverse(line.begin(), line.end());
    std::size_t at = 0;
    if (current) {
      while (at < line.size() && line[at]->id != *current) ++at;
      if (at == line.size())
        throw ConfigError("the current revision " + *current + " is not below the head " + h->id);
      ++at;  // the first revision above current
    }
    if (at + *n > line.size())
      throw ConfigError("cannot upgrade " + std::string(target) + ": only " + std::to_string(line.size() - at) +
                        " revision(s) remain above the current one");
    return {line.begin() + static_cast<std::ptrdiff_t>(at), line.begin() + static_cast<std::ptrdiff_t>(at + *n)};
  } else {
    goal = &resolve(target);
  }
  std::vector<const Revision*> path;
  for (const Revision* r : lineage(goal->id)) {
    if (current && r->id == *current) {
      std::reverse(path.begin(), path.end());
      return path;
    }
    path.push_back(r);
  }
  if (!current) {
    std::reverse(path.begin(), path.end());
    return path;
  }
  if (is_ancestor(goal->id, *current))
    throw ConfigError("revision " + goal->id + " is below the current revision " + *current +
                      "; use `downgrade " + goal->id + "` to go back to it");
  throw ConfigError("revision " + goal->id + " is not on the same branch as the current revision " + *current +
                    "; the chain has branched (see `heads`)");
}

std::vector<const Revision*> RevisionChain::downgrade_path(const std::optional<std::string>& current,
                                                           std::string_view target) const {
  if (!current) {
    if (target == "base") return {};
    throw ConfigError("the database is at base (no revision applied); there is nothing to downgrade");
  }
  if (!find(*current))
    throw ConfigError("the database is at revision " + *current +
                      ", which is not in the versions directory; restore its file to downgrade it");
  auto line = lineage(*current);  // newest first, ending at the base
  if (target == "base") return line;
  if (auto n = steps(target, '-')) {
    if (*n > line.size())
      throw ConfigError("cannot downgrade " + std::string(target) + ": only " + std::to_string(line.size()) +
                        " revision(s) are applied");
    return {line.begin(), line.begin() + static_cast<std::ptrdiff_t>(*n)};
  }
  const Revision& goal = resolve(target);
  std::vector<const Revision*> path;
  for (const Revision* r : line) {
    if (r->id == goal.id) return path;
    path.push_back(r);
  }
  throw ConfigError("revision " + goal.id + " is not below the current revision " + *current +
                    "; use `upgrade " + goal.id + "` to move forward to it");
}

}  // namespace corm::migrate
