// wrapper_test.cpp: the C++ wrapper (include/CloudroomVideoMgr.h) against a real
// server, one process: singleton access, std::string in and out, virtual callbacks
// with arguments checked, an exception thrown by a callback kept out of the
// library, setCallback(nullptr), uninit. Run through tests/run-c.sh.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "CloudroomVideoMgr.h"

static int failures = 0, checks = 0;
#define CHECK(cond)                                                                     \
    do {                                                                                \
        ++checks;                                                                       \
        if (!(cond)) {                                                                  \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
            ++failures;                                                                 \
        }                                                                               \
    } while (0)

struct Event {
    std::string name, a, b;
    int code;
};

class Recorder : public CloudroomVideoMgrCallback {
public:
    void loginSuccess(const std::string &usrID, const std::string &cookie) override { push({"loginSuccess", usrID, cookie, 0}); }
    void loginFail(int sdkErr, const std::string &cookie) override { push({"loginFail", cookie, "", sdkErr}); }
    void getUserStatusSuccess(const std::string &usersStatus, const std::string &cookie) override
    {
        push({"getUserStatusSuccess", usersStatus, cookie, 0});
        if (cookie == "throw")
            throw std::runtime_error("callbacks may throw; the wrapper must catch it");
    }
    void createMeetingSuccess(const std::string &meetObj, const std::string &cookie) override { push({"createMeetingSuccess", meetObj, cookie, 0}); }
    void callFail(const std::string &callID, int sdkErr, const std::string &cookie) override { push({"callFail", callID, cookie, sdkErr}); }
    void sendCmdRlst(const std::string &taskID, int sdkErr, const std::string &cookie) override { push({"sendCmdRlst", taskID, cookie, sdkErr}); }
    // Every other callback keeps the empty default body.

    bool wait(const std::string &name, Event *out, int ms = 10000)
    {
        std::unique_lock<std::mutex> lk(mu_);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        for (;;) {
            for (auto it = q_.begin(); it != q_.end(); ++it)
                if (it->name == name) {
                    *out = *it;
                    q_.erase(it);
                    return true;
                }
            if (cv_.wait_until(lk, deadline) == std::cv_status::timeout)
                return false;
        }
    }
    size_t size()
    {
        std::lock_guard<std::mutex> lk(mu_);
        return q_.size();
    }

private:
    void push(const Event &e)
    {
        std::lock_guard<std::mutex> lk(mu_);
        q_.push_back(e);
        cv_.notify_all();
    }
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Event> q_;
};

int main()
{
    const char *tmp = std::getenv("CRV_TMP");
    if (!tmp) {
        std::fprintf(stderr, "run through tests/run-c.sh\n");
        return 2;
    }
    CloudroomVideoSDK *sdk = CloudroomVideoSDK::instance();
    CloudroomVideoMgr *mgr = CloudroomVideoMgr::instance();
    CHECK(mgr == CloudroomVideoMgr::instance());
    CHECK(CloudroomVideoSDK::version() == CRVIDEOMGR_VERSION);
    CHECK(CloudroomVideoSDK::strerror(CRVIDEOSDK_ERR_BUSY) == "callee busy or do-not-disturb");
    Recorder rec;
    CHECK(mgr->setCallback(&rec) == CRVIDEOSDK_NOERR);
    Event e;
    // Not initialised: an ID all the same, and callFail(ID, CRVIDEOSDK_NOT_INIT).
    std::string early = mgr->call("x", "", "", "early");
    CHECK(!early.empty());
    CHECK(rec.wait("callFail", &e) && e.a == early && e.code == CRVIDEOSDK_NOT_INIT && e.b == "early");
    CHECK(sdk->init(std::string(tmp) + "/sdk-cpp") == CRVIDEOSDK_NOERR);
    sdk->setServerAddr(std::getenv("CRV_ADDR"));
    const std::string me = "cpp-user";
    mgr->login(std::getenv("CRV_ACNT"), std::getenv("CRV_PSWD"), "C++ user", me, "", "cookie-1");
    CHECK(rec.wait("loginSuccess", &e) && e.a == me && e.b == "cookie-1");

    mgr->getUserStatus("throw"); // the callback throws
    CHECK(rec.wait("getUserStatusSuccess", &e) && e.a.find(me) != std::string::npos);
    mgr->createMeeting("C++ meeting", 0, "cm"); // the library survived and goes on
    CHECK(rec.wait("createMeetingSuccess", &e) && e.a.find("\"subject\":\"C++ meeting\"") != std::string::npos && e.b == "cm");

    std::string id = mgr->call(me, "", "", "self");
    CHECK(!id.empty());
    CHECK(rec.wait("callFail", &e) && e.a == id && e.code == CRVIDEOSDK_PARAM_ERR && e.b == "self");
    std::string task = mgr->sendCmd("nobody-cpp", "aGk=");
    CHECK(rec.wait("sendCmdRlst", &e) && e.a == task && e.code == CRVIDEOSDK_SENDDATA_TARGETINVALID);

    // Cleared: nothing reaches the object any more.
    CHECK(mgr->setCallback(nullptr) == CRVIDEOSDK_NOERR);
    mgr->getUserStatus("unseen");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(rec.size() == 0);

    // Poll mode through the wrapper.
    CHECK(mgr->setCallback(&rec) == CRVIDEOSDK_NOERR);
    CHECK(sdk->setPollMode(true) == CRVIDEOSDK_NOERR);
    CHECK(sdk->pollFd() >= 0);
    mgr->getMeetings("");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(rec.size() == 0);
    int ran = 0;
    for (int k = 0; k < 100 && ran == 0; k++) {
        ran = sdk->poll();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(ran == 1);
    CHECK(sdk->setPollMode(false) == CRVIDEOSDK_NOERR);

    mgr->logout();
    sdk->uninit();
    mgr->setCallback(nullptr);
    std::printf("%s wrapper: %d checks, %d passed, %d failed\n", failures ? "[FAIL]" : "[ ok ]", checks, checks - failures, failures);
    return failures ? 1 : 0;
}
