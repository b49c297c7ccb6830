// The back office's hq pages.
#include "site.h"

namespace gatehouse::web {

void add_office_hq(Site& site) { (void)site; }

}  // namespace gatehouse::web
