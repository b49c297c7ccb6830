// Throwaway certificates for TLS tests, made with the `openssl` command line in a directory the
// test owns: a CA, a server certificate for 127.0.0.1 / localhost signed by it, a client
// certificate signed by it, and a client certificate signed by another CA (which a server that
// trusts only the first must refuse). Valid for a day; EC P-256 keys, so that making them is fast.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gatehouse/testing/child_process.h"

namespace gatehouse::testing {

class TestCertificates final {
  public:
    explicit TestCertificates(std::filesystem::path directory) : dir_(std::move(directory)) {
        std::filesystem::create_directories(dir_);
        make_ca("ca", "gatehouse test CA");
        make_ca("other-ca", "another CA");
        write("server.ext",
              "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        write("client.ext", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
        make_signed("server", "localhost", "ca", "server.ext");
        make_signed("client", "gatehouse operator", "ca", "client.ext");
        make_signed("stranger", "gatehouse operator", "other-ca", "client.ext");
    }

    [[nodiscard]] std::string ca() const { return path("ca.pem"); }
    [[nodiscard]] std::string server_cert() const { return path("server.pem"); }
    [[nodiscard]] std::string server_key() const { return path("server.key"); }
    [[nodiscard]] std::string client_cert() const { return path("client.pem"); }
    [[nodiscard]] std::string client_key() const { return path("client.key"); }
    // A client certificate and key from a CA the server does not trust.
    [[nodiscard]] std::string stranger_cert() const { return path("stranger.pem"); }
    [[nodiscard]] std::string stranger_key() const { return path("stranger.key"); }

    // The content of one of the files above.
    [[nodiscard]] static std::string read(const std::string& file) {
        std::ifstream in(file);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

  private:
    [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

    void write(const std::string& name, const std::string& content) const {
        std::ofstream out(dir_ / name);
        out << content;
        if (!out) {
            throw std::runtime_error("cannot write " + path(name));
        }
    }

    void make_ca(const std::string& name, const std::string& common_name) const {
        openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                 "-subj", "/CN=" + common_name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign", "-keyout", path(name + ".key"), "-out", path(name + ".pem")});
    }

    void make_signed(const std::string& name, const std::string& common_name, const std::string& ca,
                     const std::string& extensions) const {
        openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                 "/CN=" + common_name, "-keyout", path(name + ".key"), "-out", path(name + ".csr")});
        // A serial of our own: -CAcreateserial would leave a serial file beside the CA.
        openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"),
                 "-set_serial", std::to_string(++serial_), "-days", "1", "-extfile", path(extensions), "-out",
                 path(name + ".pem")});
    }

    void openssl(std::vector<std::string> arguments) const {
        arguments.insert(arguments.begin(), {"/usr/bin/env", "openssl"});  // ChildProcess does no PATH lookup
        ChildProcess process(arguments, true);
        std::string output;
        while (auto line = process.read_line(std::chrono::seconds(30))) {
            output += *line + "\n";
        }
        if (const int status = process.wait(std::chrono::seconds(30)); status != 0) {
            throw std::runtime_error(process.describe() + " failed with status " + std::to_string(status) + ":\n" +
                                     output);
        }
    }

    std::filesystem::path dir_;
    mutable int serial_ = 0;
};

}  // namespace gatehouse::testing
