// The back office's operator pages.
#include "site.h"

namespace gatehouse::web {

void add_office_operator(Site& site) { (void)site; }

}  // namespace gatehouse::web
