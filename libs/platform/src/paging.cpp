#include "gatehouse/platform/paging.h"

#include <gatehouse/kernel/read_model.h>

namespace gatehouse::platform {

std::variant<PageRequest, std::string> read_page_request(int page_size, std::string_view page_token) {
    const int size = page_size == 0 ? kDefaultPageSize : page_size;
    if (size < 1 || size > kMaxPageSize) {
        return "page_size: must be between 1 and " + std::to_string(kMaxPageSize);
    }
    PageRequest request;
    request.size = static_cast<std::size_t>(size);
    if (!page_token.empty()) {
        auto cursor = kernel::index_layout::token_to_cursor(page_token);
        if (!cursor || cursor->empty()) {
            return std::string("page_token: is not a token from a previous page");
        }
        request.after = std::move(*cursor);
    }
    return request;
}

std::string next_page_token(std::string_view last_cursor) { return kernel::index_layout::cursor_to_token(last_cursor); }

}  // namespace gatehouse::platform
