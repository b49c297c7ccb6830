#include "gatehouse/testing/metrics_reader.h"

#include <curl/curl.h>

namespace gatehouse::testing {

double read_metric(int port, const std::string& name) {
    std::string body;
    CURL* curl = curl_easy_init();
    if (curl == nullptr || port <= 0) {
        curl_easy_cleanup(curl);
        return -1;
    }
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* out) {
            static_cast<std::string*>(out)->append(data, size * count);
            return size * count;
        });
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK) {
        return -1;
    }
    for (std::size_t start = 0, end; (end = body.find('\n', start)) != std::string::npos; start = end + 1) {
        const std::string line = body.substr(start, end - start);
        if (line.rfind(name + " ", 0) == 0) {
            return std::stod(line.substr(name.size() + 1));
        }
    }
    return -1;
}

}  // namespace gatehouse::testing
