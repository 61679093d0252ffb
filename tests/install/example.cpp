#include <imapkeep/imaplib.hpp>
#include <iostream>
#include <sstream>
int main(int argc, char** argv) {
    imaplib::IMAP4 M(argv[1], std::stoi(argv[2]));
    M.login(argv[3], argv[4]);
    M.select();
    auto [typ, data] = M.search(std::nullopt, "ALL");
    std::istringstream nums(std::get<std::string>(data[0]));
    for (std::string num; nums >> num;) {
        auto [t, d] = M.fetch(num, "(RFC822)");
        std::cout << "Message " << num << "\n" << std::get<1>(d[0]).second << "\n";
    }
    M.close();
    M.logout();
}
