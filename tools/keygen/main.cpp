// gatehouse-keygen: makes the notifier's key pair (X25519, libsodium crypto_box). Services seal
// one-time tokens to the public key; only the notifier, holding the secret key, can open them to
// build links. Prints both in base64url, as the settings notifier.public_key / notifier.secret_key.
#include <sodium.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cout << "usage: gatehouse-keygen\nPrints a new notifier key pair as\n"
                     "  GATEHOUSE_NOTIFIER_PUBLIC_KEY=...\n  GATEHOUSE_NOTIFIER_SECRET_KEY=...\n";
        return std::string(argv[1]) == "--help" ? 0 : 2;
    }
    if (sodium_init() < 0) {
        std::cerr << "gatehouse-keygen: libsodium failed to initialise\n";
        return 1;
    }
    unsigned char public_key[crypto_box_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(public_key, secret_key);
    const auto encode = [](const unsigned char* bytes, std::size_t size) {
        std::string text(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
        sodium_bin2base64(text.data(), text.size(), bytes, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        text.resize(text.find('\0'));
        return text;
    };
    std::cout << "GATEHOUSE_NOTIFIER_PUBLIC_KEY=" << encode(public_key, sizeof public_key) << "\n"
              << "GATEHOUSE_NOTIFIER_SECRET_KEY=" << encode(secret_key, sizeof secret_key) << "\n";
    sodium_memzero(secret_key, sizeof secret_key);
    return 0;
}
