/* Photo uploader (templates/_macros.html photo_uploader): turns a plain file input into WeUI's uploader. Photos are
   shrunk on the phone to at most 1600 px on the long side (JPEG, quality 0.8) so a 12 MB camera photo sends about
   300 KB over 3G; the count and size are checked before the form is sent. The form is still posted as a normal
   form: the server checks and re-encodes every photo whatever this script did. Without DataTransfer (very old
   browsers) the plain input stays as it is. */
(function () {
  "use strict";
  if (window.llUploader) return; // the macro adds this script once per uploader on the page
  window.llUploader = true;

  var MAX_SIDE = 1600;
  var QUALITY = 0.8;
  // A photo already this small and within MAX_SIDE is sent as it is: shrinking it again would only lose detail.
  var SMALL_ENOUGH = 400 * 1024;

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type)) {
        resolve(file); // HEIC and others: the server converts what the browser cannot draw
        return;
      }
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        URL.revokeObjectURL(url);
        var scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
        if (scale === 1 && file.size <= SMALL_ENOUGH) {
          resolve(file);
          return;
        }
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        var context = canvas.getContext("2d");
        context.fillStyle = "#fff"; // a transparent PNG becomes white, as the server would make it
        context.fillRect(0, 0, canvas.width, canvas.height);
        // Browsers draw photos turned upright by their EXIF orientation; the new JPEG carries no EXIF (no GPS).
        context.drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) {
            resolve(file);
            return;
          }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", QUALITY);
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        resolve(file);
      };
      img.src = url;
    });
  }

  function megabytes(bytes) {
    return Math.round(bytes / 1024 / 1024) + "MB";
  }

  function Uploader(root) {
    this.root = root;
    this.input = root.querySelector("input[type=file]");
    this.list = root.querySelector("[data-uploader-files]");
    this.box = root.querySelector("[data-uploader-box]");
    this.error = root.querySelector("[data-uploader-error]");
    this.maxCount = parseInt(root.getAttribute("data-max-count"), 10) || 1;
    this.maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10) || 10 * 1024 * 1024;
    this.files = [];
    this.pending = null;
    this.form = this.input.form;
    this.required = this.input.required;

    root.classList.add("ll-uploader_js");
    this.box.classList.add("weui-uploader__input-box");
    this.input.classList.remove("ll-file");
    this.input.classList.add("weui-uploader__input");
    this.input.addEventListener("change", this.choose.bind(this));
    this.list.addEventListener("click", this.remove.bind(this));
    if (this.form) this.form.addEventListener("submit", this.check.bind(this));
    this.refresh();
  }

  Uploader.prototype.heldCount = function () {
    return this.root.querySelectorAll("input[name=held_photo]:checked").length;
  };

  Uploader.prototype.say = function (message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
  };

  Uploader.prototype.choose = function () {
    var chosen = Array.prototype.slice.call(this.input.files);
    var room = this.maxCount - this.heldCount() - this.files.length;
    this.say(chosen.length > room ? "最多" + this.maxCount + "张照片，多选的" + (chosen.length - Math.max(room, 0)) + "张没有加入" : "");
    chosen = chosen.slice(0, Math.max(room, 0));
    var self = this;
    this.pending = Promise.all(chosen.map(shrink)).then(function (shrunk) {
      self.files = self.files.concat(shrunk);
      self.pending = null;
      self.refresh();
    });
    this.refresh();
  };

  Uploader.prototype.remove = function (event) {
    var button = event.target.closest("[data-remove]");
    if (!button) return;
    event.preventDefault();
    var item = button.closest("li");
    if (item.hasAttribute("data-index")) {
      this.files.splice(parseInt(item.getAttribute("data-index"), 10), 1);
    } else {
      item.parentNode.removeChild(item); // a photo held by the server: its token is no longer sent
    }
    this.say("");
    this.refresh();
  };

  // The input's files are the shrunk photos; the thumbnails show them.
  Uploader.prototype.refresh = function () {
    var transfer = new DataTransfer();
    this.files.forEach(function (file) { transfer.items.add(file); });
    this.input.files = transfer.files;
    var list = this.list;
    Array.prototype.slice.call(list.querySelectorAll("li[data-index]")).forEach(function (item) {
      URL.revokeObjectURL(item.getAttribute("data-url"));
      list.removeChild(item);
    });
    Array.prototype.slice.call(list.querySelectorAll(".ll-uploader__held")).forEach(function (item) {
      if (!item.querySelector("[data-remove]")) {
        var keep = item.querySelector(".ll-uploader__keep");
        keep.hidden = true;
        item.appendChild(removeButton());
      }
    });
    this.files.forEach(function (file, index) {
      var url = URL.createObjectURL(file);
      var item = document.createElement("li");
      item.className = "weui-uploader__file";
      item.setAttribute("data-index", String(index));
      item.setAttribute("data-url", url);
      item.style.backgroundImage = "url(" + url + ")";
      item.appendChild(removeButton());
      list.appendChild(item);
    });
    var count = this.files.length + this.heldCount();
    this.box.hidden = count >= this.maxCount || this.pending !== null;
    // A required photo may be held by the server instead of chosen again.
    this.input.required = this.required && this.heldCount() === 0;
  };

  function removeButton() {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "ll-uploader__remove";
    button.setAttribute("data-remove", "");
    button.setAttribute("aria-label", "删除这张照片");
    button.textContent = "×";
    return button;
  }

  Uploader.prototype.check = function (event) {
    var self = this;
    if (this.pending) {
      event.preventDefault();
      this.say("照片处理中，请稍候…");
      var submitter = event.submitter;
      this.pending.then(function () {
        self.say("");
        self.form.requestSubmit(submitter || undefined);
      });
      return;
    }
    if (this.files.length + this.heldCount() > this.maxCount) {
      event.preventDefault();
      this.say("最多只能上传" + this.maxCount + "张照片，请删除几张");
      return;
    }
    var tooLarge = this.files.filter(function (file) { return file.size > self.maxBytes; });
    if (tooLarge.length) {
      event.preventDefault();
      this.say("照片「" + tooLarge[0].name + "」超过" + megabytes(this.maxBytes) + "，请换一张或删除");
    }
  };

  function start() {
    if (typeof DataTransfer === "undefined" || typeof Promise === "undefined") return;
    try {
      new DataTransfer();
    } catch (unsupported) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-uploader]"), function (root) {
      new Uploader(root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
