// The back office's sales pages.
#include "site.h"

namespace gatehouse::web {

void add_office_sales(Site& site) { (void)site; }

}  // namespace gatehouse::web
